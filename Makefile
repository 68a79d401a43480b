# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test fuzz bench clean

DEMO_STAMP := $(VENV)/.demo-installed

# The demo needs lrkit with plotting, YAML and pipeline.config reading: nothing else.
$(DEMO_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[plot,yaml,tfod]'
	touch $(DEMO_STAMP)

$(STAMP): pyproject.toml requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	# timm's schedulers, for from_timm's parity test: without its dependencies, which would
	# replace the CPU torch with a CUDA build (torchvision); the test loads timm.scheduler alone.
	$(BIN)/python -m pip install -q --no-deps timm==1.0.31
	# TF Model Garden's schedules, for from_tf_model_garden's parity test: the package alone
	# (its full dependencies pin another TensorFlow and pull ~120 packages); with tf_keras for
	# the TensorFlow pinned in requirements-dev.txt it imports official.modeling.optimization.
	$(BIN)/python -m pip install -q --no-deps tf-models-official==2.20.0 tf_keras==2.21.0 \
	  gin-config==0.5.0
	# mmengine's schedulers and Config, for from_mmengine's parity test: without opencv.
	$(BIN)/python -m pip install -q --no-deps mmengine==0.10.7
	# OLMo-core's schedulers, for wsd_cycles' parity test: without cached-path, whose pins
	# (rich<14, filelock<4, huggingface-hub<2) conflict with transformers'; the test stands in
	# for it (the schedulers never call it).
	$(BIN)/python -m pip install -q --no-deps ai2-olmo-core==3.0.0 dataclass-extensions==0.5.0 \
	  bettermap==1.3.1 dill==0.4.1
	$(BIN)/python -m pip install -q -e '.[all,dev]'
	touch $(STAMP)

# The main job: for every system of the source documents, its phase table, its lint warnings
# and its picture (in out/).
demo: $(DEMO_STAMP)
	@mkdir -p out
	@for f in examples/*.json examples/*.toml examples/*.yaml; do \
	  [ -e "$$f" ] || continue; \
	  $(BIN)/lrkit show "$$f" || exit 1; echo; \
	  $(BIN)/lrkit lint "$$f" || exit 1; \
	  $(BIN)/lrkit plot "$$f" -o "out/$$(basename "$${f%.*}").png" || exit 1; \
	  echo; done
	@echo "== examples/pipeline.config (the source document's TF Object Detection config)"
	@$(BIN)/lrkit show examples/pipeline.config
	@$(BIN)/lrkit lint examples/pipeline.config --total 200000

test: $(STAMP)
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/mypy src

# The fuzz tests (pytest -m fuzz) with 30 times the inputs make test gives them (~15 minutes;
# LRKIT_FUZZ_SCALE=100 for longer).
fuzz: $(STAMP)
	LRKIT_FUZZ_SCALE=$${LRKIT_FUZZ_SCALE:-30} $(BIN)/python -m pytest -q -m fuzz

# Every benchmark, one table of targets in benchmarks/RESULTS.md, evidence in docs/evidence.md.
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) out

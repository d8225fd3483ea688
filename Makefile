# neurogate: every target sets up .venv on first use (PyPI only, no root).
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export YOWASP_CACHE_DIR ?= $(HOME)/.cache/yowasp

MODEL   ?= models/residual_cnn.py
ARRAY   ?= 8x8
TARGET  ?= ecp5-85k
OUT     ?= build/$(basename $(notdir $(MODEL)))_$(ARRAY)_$(TARGET)
VECTORS ?= 200

# A synthesis target for one family with TARGET naming another would put the wrong
# device's numbers into a folder named for TARGET: refuse it before doing anything.
ifneq ($(filter synth-ecp5,$(MAKECMDGOALS)),)
ifeq ($(filter ecp5-%,$(TARGET)),)
$(error make synth-ecp5: TARGET=$(TARGET) is not an ECP5 device; use TARGET=ecp5-25k, ecp5-45k or ecp5-85k, or make synth-ice40 TARGET=ice40-up5k)
endif
endif
ifneq ($(filter synth-ice40,$(MAKECMDGOALS)),)
ifeq ($(filter ice40-%,$(TARGET)),)
$(error make synth-ice40: TARGET=$(TARGET) is not an iCE40 device; use TARGET=ice40-up5k (and a small ARRAY such as 2x2), or make synth-ecp5)
endif
endif

.PHONY: setup test regress hls4ml-peer demo rtl sim synth-ice40 synth-ecp5 asic-area report bench blocks-report fp-study econt-study clean asic-extras

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[hls,qkeras,onnx,econt]'
	touch $@

test: $(STAMP)
	$(BIN)/pytest -q

# Every shipped model through the compiled RTL harness with a million random vectors
# (make test runs the same with 300).
REGRESS_VECTORS ?= 1000000
regress: $(STAMP)
	$(BIN)/pytest -q -m regress
	$(BIN)/python bench/regress.py --vectors $(REGRESS_VECTORS)

demo: $(STAMP)
	$(BIN)/neurogate compile models/residual_cnn.py --target ecp5-85k --array 8x8 --wbuf-words 512 --out build/cnn
	$(BIN)/neurogate verify build/cnn --vectors 200
	$(BIN)/neurogate synth build/cnn --mhz 100 --seeds 3
	$(BIN)/neurogate report build/cnn

# The build folder is named after model, array and target; the flows below reuse it and
# recompile only when the model file changed.  `make rtl` always recompiles.
$(OUT)/design.json: $(MODEL) | $(STAMP)
	$(BIN)/neurogate compile $(MODEL) --target $(TARGET) --array $(ARRAY) --out $(OUT)

rtl: $(STAMP)
	$(BIN)/neurogate compile $(MODEL) --target $(TARGET) --array $(ARRAY) --out $(OUT)

sim: $(OUT)/design.json
	$(BIN)/neurogate verify $(OUT) --vectors $(VECTORS)

synth-ecp5: $(OUT)/design.json
	$(BIN)/neurogate synth $(OUT)

synth-ice40: $(OUT)/design.json
	$(BIN)/neurogate synth $(OUT)

asic-area: $(OUT)/design.json
	$(BIN)/neurogate synth $(OUT) --asic

report: $(OUT)/design.json
	$(BIN)/neurogate report $(OUT)

bench: $(STAMP)
	$(BIN)/python bench/engine_utilization.py
	$(BIN)/python bench/engine_vgg16.py
	$(BIN)/python bench/compile_time.py
	$(BIN)/python bench/verify_speed.py
	$(BIN)/python bench/hls_speed.py
	$(BIN)/python bench/timing.py

# hls4ml 1.3 C-sim of the jet MLP vs neurogate's golden model, in its own venv (~700 MB,
# keras 3 on jax; hls4ml is no dependency of neurogate).  bench/verify_speed.py prints
# its figures beside neurogate's when this venv exists.
PEER_VENV := bench/out/peer-venv
$(PEER_VENV)/.installed: bench/peer-requirements.txt pyproject.toml
	$(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/pip install --quiet -r bench/peer-requirements.txt
	$(PEER_VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

hls4ml-peer: $(PEER_VENV)/.installed
	$(PEER_VENV)/bin/python bench/hls4ml_peer.py --json bench/out/hls4ml_peer.json

# Accuracy and synthesis tables of the low-bit and non-linear blocks -> docs/blocks.md
# (about 20 minutes: every block through yosys and nextpnr).
blocks-report: $(STAMP)
	$(BIN)/python bench/blocks_report.py

# Exact vs approximate-normalization float units: area, toggles, accuracy, Fmax
# -> docs/fp-study.md and docs/fp-study.png (a few minutes).
fp-study: $(STAMP)
	$(BIN)/pip install --quiet "matplotlib>=3.8"
	$(BIN)/python bench/fp_study.py

# The ECON-T encoder's latent and weight widths against EMD, area and power, with and
# without TMR -> docs/econt-study.md and docs/econt-study.png (about 2 h 15 min: the
# standard-cell flow of nine designs, one at a time; `make asic-extras` first, or the
# docs hold the design counts only).
econt-study: $(STAMP)
	$(BIN)/pip install --quiet "matplotlib>=3.8"
	$(BIN)/python bench/econt_study.py

clean:
	rm -rf build sim_build bench/out

# The standard-cell library and static timing behind `neurogate synth --asic` (docs/asic.md):
# OSU 0.18 um cells (Debian's qflow-tech-osu018, which pulls in qflow) and OpenSTA, from apt
# (root).  Without them --asic reports transistor counts only.
ASIC_PACKAGES := qflow-tech-osu018 opensta
asic-extras:
	@if ! command -v apt-get >/dev/null 2>&1; then \
		echo "make asic-extras: no apt-get on this machine; install a Liberty file and OpenSTA's sta yourself and set NEUROGATE_LIBERTY to the .lib (docs/asic.md)" >&2; \
		exit 1; \
	fi
	apt-get install -y --no-install-recommends $(ASIC_PACKAGES) || \
		{ apt-get update && apt-get install -y --no-install-recommends $(ASIC_PACKAGES); }

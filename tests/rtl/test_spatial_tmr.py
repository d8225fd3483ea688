"""Triple-modular redundancy (``--tmr``) on a spatial design with weights in registers:
10,000 single-bit upsets, one per clock in a random copy of a random triplicated
register (pipeline, valid and weight registers), while 10,000 vectors stream through at
one per clock; every output stays equal to the golden model and the ``upset`` flag
reports every injection.  Also the cost of TMR, in register bits."""

import json
from pathlib import Path

from neurogate.compiler import api
from neurogate.compiler.backends.spatial.network import SpatialNetwork
from neurogate.sim.cocotb.runner import run_cocotb
from spatial_models import small_cnn


def test_ten_thousand_upsets_change_no_output(tmp_path):
    folder = tmp_path / "tmr"
    api.compile(small_cnn(), style="spatial", target="asic", weights="registers", tmr=True,
                out=folder)
    network = SpatialNetwork(small_cnn(), weights="registers", tmr=True)
    (folder / "tmr_registers.json").write_text(json.dumps(network.triplicated))
    results = tmp_path / "results.json"
    run_cocotb(sources=[folder / "tmr_cnn.v"], toplevel="tmr_cnn",
               test_module="spatial_tmr_bench", test_dir=Path(__file__).parent,
               build_dir=tmp_path / "sim_build",
               extra_env={"NEUROGATE_DESIGN": str(folder), "NEUROGATE_VECTORS": "10200",
                          "NEUROGATE_SEED": "11", "NEUROGATE_RESULTS": str(results)})
    outcome = json.loads(results.read_text())
    assert outcome["injected"] >= 10_000
    assert outcome["mismatches"] == 0
    assert outcome["reported"] == outcome["injected"] == outcome["counted"]


def test_tmr_triples_every_register():
    plain = SpatialNetwork(small_cnn(), weights="registers")
    tmr = SpatialNetwork(small_cnn(), weights="registers", tmr=True)
    assert tmr.resources.register_bits == 3 * plain.resources.register_bits
    assert len(tmr.triplicated) > 0 and all(len(c) == 3 for c in tmr.triplicated)

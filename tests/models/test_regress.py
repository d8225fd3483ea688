"""`make regress` with a small count: every shipped model bit-exact through the RTL."""

from neurogate.compiler.flows.regress import regress, shipped_models


def test_every_shipped_model_is_bit_exact_through_the_rtl(tmp_path):
    names = {p.stem for p in shipped_models()}
    assert {"mlp_digits", "mlp_digits_int4", "dense512", "jet_mlp"} <= names
    results = regress(tmp_path, vectors=300, seed=1)
    assert {r.model for r in results} == names
    for r in results:
        assert r.vectors == 300 and r.mismatches == 0, r


"""Malformed input of every kind: one line naming the thing, a documented non-zero exit,
no traceback, nothing half-written, and an existing good build folder left intact.

Classes: output paths, model files, weights and formats, IR structure, command-line
options, damaged build folders.  Verify and synth refuse a damaged folder before any
tool runs, so these tests are fast.
"""

import json
import os
import shutil
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner
from neurogate.compiler.atomic import MARKER
from neurogate.compiler.cli import main

MODEL = textwrap.dedent('''
    import numpy as np
    from neurogate.compiler.builder import GraphBuilder
    from neurogate.numerics import IntFormat

    def build_model():
        b = GraphBuilder("tiny")
        x = b.input("x", 4, IntFormat(8))
        y = b.dense(x, {weights}, weight_fmt=IntFormat(8), name="fc1")
        y = b.requantize(y, shift={shift}, out_fmt=IntFormat(8), rounding={rounding!r},
                         name="fc1_q")
        return b.build(outputs=[y])
''')
GOOD = dict(weights="np.arange(8).reshape(2, 4) - 4", shift=4, rounding="half_up")


def model_text(**change):
    return MODEL.format(**{**GOOD, **change})


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def refused(result, message, status=1):
    """One line, naming the problem, with the documented status and no traceback."""
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == status, result.output
    assert len(lines) == 1, result.output
    assert lines[0].startswith("neurogate: error: "), result.output
    assert message in lines[0], result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture(scope="module")
def good_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("good")
    model = root / "m.py"
    model.write_text(model_text())
    out = root / "build"
    assert run("compile", model, "--array", "2x2", "--out", out).exit_code == 0
    return out


@pytest.fixture
def folder_copy(good_folder, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(good_folder, copy)
    return copy


def write(tmp_path, text, name="m.py"):
    path = tmp_path / name
    path.write_text(text)
    return path


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- output paths -------------------------------------------------------------------------

def test_a_folder_of_user_files_is_refused_and_untouched(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    refused(run("compile", write(tmp_path, model_text()), "--out", out),
            f"--out {out}: exists and is not a neurogate build folder")
    assert (out / "thesis.tex").read_text() == "precious" and len(list(out.iterdir())) == 1


def test_the_current_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, model_text())
    refused(run("compile", "m.py", "--out", "."), "--out .: is the current folder")
    refused(run("compile", "m.py", "--out", ".."), "--out ..: is the current folder or one above")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]


def test_a_regular_file_is_refused_and_untouched(tmp_path):
    out = write(tmp_path, "notes", name="notes.txt")
    refused(run("compile", write(tmp_path, model_text()), "--out", out), "is a file, not a folder")
    assert out.read_text() == "notes"
    assert not list(tmp_path.glob(".notes.txt*"))


def test_a_path_under_a_regular_file_is_refused(tmp_path):
    blocker = write(tmp_path, "x", name="blocker")
    refused(run("compile", write(tmp_path, model_text()), "--out", blocker / "sub" / "out"),
            f"{blocker} is a file, not a folder")


def test_an_unwritable_place_is_refused(tmp_path):
    refused(run("compile", write(tmp_path, model_text()), "--out", "/proc/neurogate_out"),
            "--out /proc/neurogate_out")


def test_an_empty_folder_and_a_build_folder_are_replaced(tmp_path, good_folder):
    model = write(tmp_path, model_text())
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("compile", model, "--array", "2x2", "--out", empty).exit_code == 0
    assert (empty / MARKER).is_file()
    again = tmp_path / "again"
    shutil.copytree(good_folder, again)
    (again / "stale.txt").write_text("from an older compile")
    assert run("compile", model, "--array", "2x2", "--out", again).exit_code == 0
    assert not (again / "stale.txt").exists()


def test_build_folder_files_have_one_mode(good_folder):
    umask = os.umask(0)
    os.umask(umask)
    modes = {p.name: p.stat().st_mode & 0o777 for p in good_folder.iterdir() if p.is_file()}
    assert set(modes.values()) == {0o666 & ~umask}, modes


# --- model files --------------------------------------------------------------------------

MODEL_FILES = [
    ("missing", None, "does not exist"),
    ("folder", "DIR", "is a folder, not a file"),
    ("suffix", ("model.pt", "x"), "neurogate reads Python model files (.py"),
    ("corrupt_onnx", ("model.onnx", "x"), "model.onnx"),
    ("corrupt_h5", ("model.h5", "not hdf5"), "model.h5"),
    ("syntax", "def build_model(:\n", "(line 1) raised SyntaxError"),
    ("raises", "def build_model():\n    raise RuntimeError('boom')\n", "raised RuntimeError: boom"),
    ("exit0", "import sys\nsys.exit(0)\n", "called sys.exit(0)"),
    ("exit3", "import sys\ndef build_model():\n    sys.exit(3)\n", "called sys.exit(3)"),
    ("import", "import neurogate_no_such_module\n", "raised ModuleNotFoundError"),
    ("no_build", "x = 1\n", "defines no build_model() function"),
    ("not_callable", "build_model = 3\n", "defines no build_model() function"),
    ("returns_int", "def build_model():\n    return 3\n", "returned int, not a neurogate Graph"),
    ("returns_none", "def build_model():\n    pass\n", "returned NoneType"),
]


@pytest.mark.parametrize("case, body, message", MODEL_FILES, ids=[c[0] for c in MODEL_FILES])
def test_bad_model_file(tmp_path, case, body, message):
    out = tmp_path / "out"
    if body is None:
        model = tmp_path / "nope.py"
    elif body == "DIR":
        model = tmp_path / "dir.py"
        model.mkdir()
    elif isinstance(body, tuple):
        model = write(tmp_path, body[1], name=body[0])
    else:
        model = write(tmp_path, body)
    line = refused(run("compile", model, "--out", out), message)
    assert str(model) in line
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


def test_a_failing_compile_keeps_the_previous_build(tmp_path, good_folder):
    out = tmp_path / "keep"
    shutil.copytree(good_folder, out)
    before = snapshot(out)
    refused(run("compile", write(tmp_path, "def build_model():\n    return 3\n"), "--out", out),
            "returned int")
    assert snapshot(out) == before


# --- weights, formats and IR structure ----------------------------------------------------

LAYERS = [
    ("string_weights", dict(weights="[['a'] * 4] * 2"), "fc1"),
    ("fractional_weights", dict(weights="np.full((2, 4), 0.5)"), "fc1"),
    ("weights_out_of_format", dict(weights="np.full((2, 4), 300)"), "fc1: weights"),
    ("wrong_weight_shape", dict(weights="np.ones((2, 5), dtype=int)"), "fc1"),
    ("unknown_rounding", dict(rounding="half_evn"),
     "rounding must be one of 'floor', 'half_up', 'half_even', 'half_away', 'ceil', 'trunc', "
     "'away', 'half_zero', not 'half_evn'"),
    ("negative_shift", dict(shift=-1), "fc1_q"),
    ("float_shift", dict(shift=2.5), "fc1_q"),
]


@pytest.mark.parametrize("case, change, message", LAYERS, ids=[c[0] for c in LAYERS])
def test_bad_layer(tmp_path, case, change, message):
    out = tmp_path / "out"
    refused(run("compile", write(tmp_path, model_text(**change)), "--out", out), message)
    assert not out.exists()


def test_a_numpy_integer_shift_is_an_integer(tmp_path):
    model = write(tmp_path, model_text(shift="np.int64(4)"))
    assert run("compile", model, "--array", "2x2", "--out", tmp_path / "o").exit_code == 0


STRUCTURE = [
    ("no_outputs", "return b.build(outputs=[])", "has no outputs"),
    ("unknown_output", "return b.build(outputs=['zz'])", "'zz'"),
    ("unsupported_op", "return b.build(outputs=[b.softmax(x, name='early')])",
     "layer 'early': op Softmax does not run on the engine"),
]


@pytest.mark.parametrize("case, tail, message", STRUCTURE, ids=[c[0] for c in STRUCTURE])
def test_bad_graph_structure(tmp_path, case, tail, message):
    body = model_text().replace("return b.build(outputs=[y])", tail)
    out = tmp_path / "out"
    refused(run("compile", write(tmp_path, body), "--out", out), message)
    assert not out.exists()


# --- command-line options -----------------------------------------------------------------

COMPILE_OPTIONS = [
    (["--array", "8by8"], "array must look like ROWSxCOLS", 1),
    (["--array", "0x8"], "array rows must be an integer from 1 to 256, not 0", 1),
    (["--array", "300x1"], "array rows must be an integer from 1 to 256, not 300", 1),
    (["--array", "-2x2"], "array must look like ROWSxCOLS", 1),
    (["--target", "xc7"], "unknown target 'xc7'", 1),
    (["--target", "ice40-up5k", "--array", "8x8"], "does not fit ice40-up5k", 1),
    (["--frobnicate"], "No such option '--frobnicate'", 2),
]


@pytest.mark.parametrize("args, message, status", COMPILE_OPTIONS,
                         ids=["-".join(a[0] for a in [c[0]]) + str(i)
                              for i, c in enumerate(COMPILE_OPTIONS)])
def test_bad_compile_option(tmp_path, args, message, status):
    out = tmp_path / "out"
    refused(run("compile", write(tmp_path, model_text()), "--out", out, *args), message, status)
    assert not out.exists()


def test_compile_without_out(tmp_path):
    refused(run("compile", write(tmp_path, model_text())), "Missing option '--out'", 2)


FOLDER_OPTIONS = [
    (["verify", "--vectors", "0"], "--vectors"),
    (["verify", "--vectors", "-3"], "--vectors"),
    (["verify", "--vectors", "many"], "--vectors"),
    (["verify", "--seed", "-1"], "--seed"),
    (["synth", "--mhz", "0"], "--mhz"),
    (["synth", "--mhz", "-5"], "--mhz"),
    (["synth", "--mhz", "fast"], "--mhz"),
]


@pytest.mark.parametrize("args, message", FOLDER_OPTIONS,
                         ids=[" ".join(c[0]) for c in FOLDER_OPTIONS])
def test_bad_folder_option(folder_copy, args, message):
    before = snapshot(folder_copy)
    refused(run(args[0], folder_copy, *args[1:]), message, status=2)
    assert snapshot(folder_copy) == before


def test_synth_unknown_target(folder_copy):
    refused(run("synth", folder_copy, "--target", "xc7"), "unknown target 'xc7'")


# --- damaged build folders ----------------------------------------------------------------

def _edit_json(name, change):
    def damage(folder):
        path = folder / name
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))
    return damage


def _drop_layer_field(data):
    del data["nodes"][1]["weights"]


DAMAGE = [
    ("no_design", lambda f: (f / "design.json").unlink(), "is not a neurogate build folder"),
    ("design_not_json", lambda f: (f / "design.json").write_text("{oops"),
     "design.json: not valid JSON"),
    ("design_empty", lambda f: (f / "design.json").write_text(""), "design.json: not valid JSON"),
    ("design_binary", lambda f: (f / "design.json").write_bytes(b"\xff\xfe\x00"),
     "design.json: not a text file"),
    ("design_missing_key", _edit_json("design.json", lambda d: d.pop("toplevel")),
     "design.json: missing field 'toplevel'"),
    ("design_missing_nested", _edit_json("design.json", lambda d: d["engine"].pop("acc_bits")),
     "design.json: missing field 'engine.acc_bits'"),
    ("design_wrong_type", _edit_json("design.json", lambda d: d.update(expected_cycles="many")),
     "design.json: expected_cycles: expected an integer"),
    ("design_bad_value", _edit_json("design.json", lambda d: d["engine"].update(array=0)),
     "array must be an integer from 2 to 64, not 0"),
    ("design_unknown_field", _edit_json("design.json", lambda d: d.update(extra=1)),
     "unknown field 'extra'"),
    ("design_old_schema", _edit_json("design.json", lambda d: d.update(schema=1)),
     "compile the model again"),
    ("design_path_escape", _edit_json("design.json", lambda d: d.update(verilog="../x.v")),
     "verilog must be a .v file name"),
    ("design_is_a_list", lambda f: (f / "design.json").write_text("[]"),
     "design.json: expected an object"),
    ("no_verilog", lambda f: (f / "engine.v").unlink(), "engine.v: missing from the build folder"),
    ("no_graph", lambda f: (f / "graph.json").unlink(), "graph.json: missing from the build"),
    ("graph_not_json", lambda f: (f / "graph.json").write_text("nope"),
     "graph.json: not valid JSON"),
    ("graph_missing_field", _edit_json("graph.json", _drop_layer_field), "graph.json"),
]


@pytest.mark.parametrize("case, damage, message", DAMAGE, ids=[c[0] for c in DAMAGE])
def test_verify_refuses_a_damaged_folder(folder_copy, case, damage, message):
    damage(folder_copy)
    refused(run("verify", folder_copy, "--vectors", "1"), message)
    assert not (folder_copy / "verify").exists()


def test_verify_refuses_a_program_that_is_not_the_graphs(folder_copy):
    hexfile = folder_copy / "program.hex"
    lines = hexfile.read_text().splitlines()
    changed = f"{int(lines[1], 16) ^ (1 << 40):0{len(lines[1])}x}"   # an instruction's bit
    hexfile.write_text("\n".join([lines[0], changed] + lines[2:]) + "\n")
    refused(run("verify", folder_copy, "--vectors", "1"),
            "program.hex is not the program graph.json compiles to")


@pytest.mark.parametrize("case, damage, message", DAMAGE[:13], ids=[c[0] for c in DAMAGE[:13]])
def test_synth_and_report_refuse_a_damaged_design(folder_copy, case, damage, message):
    damage(folder_copy)
    refused(run("synth", folder_copy), message)
    refused(run("report", folder_copy), message)
    assert not (folder_copy / "synth").exists()


def test_report_names_a_corrupt_report_json(folder_copy):
    (folder_copy / "report.json").write_text("{")
    refused(run("report", folder_copy), "report.json: not valid JSON")
    (folder_copy / "report.json").write_text('{"verified": 5}')
    refused(run("report", folder_copy), "report.json: unexpected content")


@pytest.mark.parametrize("command", ["verify", "synth", "report"])
def test_folder_that_does_not_exist_or_is_a_file(tmp_path, command):
    refused(run(command, tmp_path / "none"), "does not exist")
    refused(run(command, write(tmp_path, "x", name="f.txt")), "is a file, not a build folder")


# --- datasets (verify --dataset) ----------------------------------------------------------

def _npz(tmp_path, **arrays):
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    return path


DATASETS = [
    ("missing", lambda d: d / "none.npz", "does not exist"),
    ("folder", lambda d: d, "is not a file"),
    ("not_npz", lambda d: write(d, "1,2,3", name="data.csv"), "not a NumPy .npz file"),
    ("single_npy", lambda d: _npy(d), "a single array (.npy)"),
    ("no_inputs", lambda d: _npz(d, z=np.zeros((2, 4), int)), "no array of inputs"),
    ("both_keys", lambda d: _npz(d, x=np.zeros((2, 4), int), inputs=np.zeros((2, 4), int)),
     "holds both 'x' and 'inputs'"),
    ("floats", lambda d: _npz(d, x=np.zeros((2, 4))), "holds float64, not integers"),
    ("wrong_shape", lambda d: _npz(d, x=np.zeros((2, 5), int)),
     "'x' has shape (2, 5); the model's input 'x' takes (N, 4)"),
    ("one_vector", lambda d: _npz(d, x=np.zeros(4, int)), "'x' has shape (4,)"),
    ("out_of_range", lambda d: _npz(d, x=np.full((2, 4), 200)), "8 values of 'x' lie outside int8"),
    ("bad_labels", lambda d: _npz(d, x=np.zeros((2, 4), int), y=np.zeros(3, int)),
     "'y' must be 2 integer labels"),
    ("pickled", lambda d: _pickled(d), "holds pickled Python objects"),
]


def _npy(tmp_path):
    path = tmp_path / "data.npy"
    np.save(path, np.zeros((2, 4), int))
    return path


def _pickled(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, x=np.array([{"a": 1}], dtype=object))
    return path


@pytest.mark.parametrize("case, make, message", DATASETS, ids=[c[0] for c in DATASETS])
def test_bad_dataset(folder_copy, tmp_path, case, make, message):
    path = make(tmp_path)
    line = refused(run("verify", folder_copy, "--dataset", path), message)
    assert str(path) in line
    assert not (folder_copy / "verify").exists()

"""The command line: bad input gives one line naming the problem, a non-zero exit and
no output folder; a good compile is byte-for-byte deterministic."""

import textwrap

import pytest
from click.testing import CliRunner
from neurogate.compiler.cli import main
from neurogate.compiler.design import load_design_json

MODEL = textwrap.dedent('''
    import numpy as np
    from neurogate.compiler.builder import GraphBuilder
    from neurogate.numerics.formats import IntFormat

    def build_model():
        rng = np.random.default_rng(0)
        b = GraphBuilder("user_mlp")
        x = b.input("x", {k}, IntFormat(8))
        y = b.dense(x, rng.integers(-128, 128, ({n}, {k})), weight_fmt=IntFormat({wbits}),
                    name="fc1")
        y = b.requantize(y, shift=10, out_fmt=IntFormat(8), name="fc1_q")
        return b.build(outputs=[y])
''')


def write_model(tmp_path, name="m.py", k=10, n=6, wbits=8, body=None):
    path = tmp_path / name
    path.write_text(body if body is not None else MODEL.format(k=k, n=n, wbits=wbits))
    return path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_refused(result, out, message):
    assert result.exit_code != 0, result.output
    lines = [line for line in result.output.splitlines() if line]
    assert len(lines) == 1 and message in lines[0], result.output
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}.*")), "a staging folder was left behind"


def test_compile_writes_the_folder(tmp_path):
    out = tmp_path / "build"
    result = run("compile", write_model(tmp_path), "--array", "4x4", "--out", out)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([".neurogate-build", "engine.v", "program.hex", "program.txt",
                            "design.json", "graph.json", "report.json"])
    design = load_design_json((out / "design.json").read_text())
    assert design.engine.array == 4 and design.weights == "resident"
    # LOAD weights, LOAD biases, END; LOAD input, MATMUL, STORE, END
    assert design.instructions == 7
    assert "MATMUL" in (out / "program.txt").read_text()


def test_compile_is_deterministic(tmp_path):
    model = write_model(tmp_path)
    for out in ("a", "b"):
        assert run("compile", model, "--array", "2x2", "--out", tmp_path / out).exit_code == 0
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_missing_model_file(tmp_path):
    out = tmp_path / "o"
    assert_refused(run("compile", tmp_path / "nope.py", "--out", out), out,
                   "model file " + str(tmp_path / "nope.py") + " does not exist")


def test_model_file_that_raises(tmp_path):
    out = tmp_path / "o"
    model = write_model(tmp_path, body="def build_model():\n    raise RuntimeError('boom')\n")
    assert_refused(run("compile", model, "--out", out), out, "raised RuntimeError: boom")


def test_model_file_without_build_model(tmp_path):
    out = tmp_path / "o"
    model = write_model(tmp_path, body="x = 1\n")
    assert_refused(run("compile", model, "--out", out), out, "defines no build_model() function")


@pytest.mark.parametrize("width", [0, 65])
def test_width_out_of_range(tmp_path, width):
    out = tmp_path / "o"
    model = write_model(tmp_path, wbits=width)
    assert_refused(run("compile", model, "--out", out), out,
                   f"width must be an integer from 1 to 64, not {width}")


def test_unsupported_op(tmp_path):
    out = tmp_path / "o"
    body = MODEL.format(k=4, n=2, wbits=8).replace(
        'return b.build(outputs=[y])', 'return b.build(outputs=[b.softmax(x, name="early")])')
    assert_refused(run("compile", write_model(tmp_path, body=body), "--out", out), out,
                   "layer 'early': op Softmax does not run on the engine")


def test_array_that_cannot_fit_the_device(tmp_path):
    out = tmp_path / "o"
    assert_refused(run("compile", write_model(tmp_path), "--target", "ice40-up5k", "--array",
                       "8x8", "--out", out), out,
                   "the 8x8 engine does not fit ice40-up5k: it needs 156 I/O pins")


def test_bad_array_and_target(tmp_path):
    out = tmp_path / "o"
    assert_refused(run("compile", write_model(tmp_path), "--array", "8by8", "--out", out), out,
                   "array must look like ROWSxCOLS")
    assert_refused(run("compile", write_model(tmp_path), "--array", "0x8", "--out", out), out,
                   "array rows must be an integer from 1 to 256, not 0")
    assert_refused(run("compile", write_model(tmp_path), "--target", "xc7", "--out", out), out,
                   "unknown target 'xc7'")


def test_engine_memory_depths(tmp_path):
    out = tmp_path / "build"
    result = run("compile", write_model(tmp_path), "--array", "4x4", "--spad-words", "1024",
                 "--wbuf-words", "64", "--out", out)
    assert result.exit_code == 0, result.output
    design = load_design_json((out / "design.json").read_text())
    assert (design.engine.spad_words, design.engine.wbuf_words) == (1024, 64)
    assert "scratchpad 5/1024 words" in result.output


def test_bad_engine_memory_depths(tmp_path):
    out = tmp_path / "o"
    assert_refused(run("compile", write_model(tmp_path), "--spad-words", "3000", "--out", out),
                   out, "engine memories: spad_words must be a power of two, not 3000")
    assert_refused(run("compile", write_model(tmp_path), "--wbuf-words", "8", "--out", out),
                   out, "engine memories: wbuf_words must be an integer from 16")
    assert_refused(run("compile", write_model(tmp_path), "--style", "spatial", "--spad-words",
                       "1024", "--out", out), out,
                   "--spad-words and --wbuf-words are options of the programmable engine")


def test_failed_compile_keeps_the_previous_folder(tmp_path):
    out = tmp_path / "o"
    assert run("compile", write_model(tmp_path), "--array", "2x2", "--out", out).exit_code == 0
    before = (out / "design.json").read_bytes()
    bad = write_model(tmp_path, name="bad.py", body="def build_model():\n    return 3\n")
    result = run("compile", bad, "--out", out)
    assert result.exit_code != 0 and "returned int, not a neurogate Graph" in result.output
    assert (out / "design.json").read_bytes() == before


def test_verify_and_report_need_a_build_folder(tmp_path):
    result = run("verify", tmp_path)
    assert result.exit_code != 0 and "is not a neurogate build folder" in result.output
    result = run("report", tmp_path)
    assert result.exit_code != 0 and "is not a neurogate build folder" in result.output

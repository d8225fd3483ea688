"""Progress lines: quiet off a terminal, one line per change of detail when forced."""

from neurogate.compiler import progress


def test_quiet_when_stderr_is_not_a_terminal(monkeypatch, capsys):
    monkeypatch.delenv("NEUROGATE_PROGRESS", raising=False)
    with progress.step("nothing to see"):
        pass
    assert capsys.readouterr().err == ""


def test_forced_lines_follow_the_watched_file(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("NEUROGATE_PROGRESS", "1")
    monkeypatch.setattr(progress, "TICK_SECONDS", 0.01)
    watched = tmp_path / "progress.txt"
    import time
    with progress.step("simulating", watch=watched):
        for text in ("1/3 vectors", "3/3 vectors"):
            progress.write_detail(watched, text)
            time.sleep(0.1)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "neurogate: simulating ..."
    assert any(line.endswith("(1/3 vectors)") for line in lines)
    assert any(line.endswith("(3/3 vectors)") for line in lines)
    assert lines[-1].startswith("neurogate: simulating ... done in ")
    assert len(lines) == 4


def test_a_failing_step_says_so(monkeypatch, capsys):
    monkeypatch.setenv("NEUROGATE_PROGRESS", "1")
    try:
        with progress.step("synthesizing"):
            raise RuntimeError("tool died")
    except RuntimeError:
        pass
    assert "synthesizing ... failed in" in capsys.readouterr().err

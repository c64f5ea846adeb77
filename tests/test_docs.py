"""The benchmark block of docs/benchmarks.md, which ``gascar bench match --readme`` rewrites."""

from pathlib import Path

from gascar.bench.match import README_BEGIN, README_END
from gascar.cli import cli

BENCHMARKS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def test_benchmarks_page_holds_one_block_to_rewrite():
    text = BENCHMARKS_PAGE.read_text(encoding="utf-8")
    assert text.count(README_BEGIN) == 1 and text.count(README_END) == 1
    assert text.index(README_BEGIN) < text.index(README_END)


def test_readme_option_alone_rewrites_docs_benchmarks_and_is_off_by_default():
    command = cli.commands["bench"].commands["match"]
    option = next(p for p in command.params if p.name == "readme")
    assert Path(option.flag_value) == Path("docs/benchmarks.md")
    assert command.make_context("match", ["--quick"]).params["readme"] is None
    ctx = command.make_context("match", ["--readme", "--quick"])
    assert ctx.params["readme"] == Path("docs/benchmarks.md") and ctx.params["quick"]
    ctx = command.make_context("match", ["--readme", "OTHER.md"])
    assert ctx.params["readme"] == Path("OTHER.md")


def test_readme_documents_every_file_a_match_or_batch_writes():
    from gascar import runfolder

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    files = readme[readme.index("## Files GASCAR writes"):readme.index("## Presets")]
    names = [runfolder.PRESET_SUFFIX, runfolder.RENDER_SUFFIX, runfolder.HISTORY_SUFFIX, runfolder.TARGET_COPY_SUFFIX,
             runfolder.PAGE_SUFFIX, ".report/", ".ckpt", "summary.csv", "summary.json", "index.html",
             runfolder.CHECKPOINT_DIR, ".gascar-batch.lock", ".syx", ".bank.syx", ".vital", "-sfz/", "--log FILE", ".npz"]
    missing = [n for n in names if n not in files]
    assert not missing, missing

"""HTML reports: one page per matched target, an index of a batch, and rebuilding both from saved results.

A page (``<base>.report.html``) shows the target and match log-mel
spectrograms side by side on one colour scale, their amplitude envelopes
overlaid, the best and median fitness and the species count per
generation, the preset's parameters in physical units, and audio players
for target and match. Its figures are PNGs in ``<base>.report/`` beside it;
the audio is the ``<base>.target.wav`` and ``<base>.render.wav`` beside it.
Every link is relative, so a page works offline, opened from disk, and the
folder can be moved.

Everything a page needs is saved with the result (preset, render, target
copy and ``<base>.history.json``), so :func:`rebuild_reports` remakes
pages without re-running anything.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from urllib.parse import quote

import numpy as np

from .errors import BatchError, GascarError
from .fileio import json_ready, write_text
from .outputs import MAX_TOP
from .runfolder import (
    CHECKPOINT_DIR,
    HISTORY_SUFFIX,
    PAGE_SUFFIX,
    PRESET_SUFFIX,
    RENDER_SUFFIX,
    TARGET_COPY_SUFFIX,
    component_names,
    index_href,
    read_history,
    read_summary,
    relative,
    write_history,
    write_summary,
    write_target_copy,
)

#: Folder suffix of a page's figures (``<base>.report/``).
ASSETS_SUFFIX = ".report"
FIGURES = ("spectrograms", "envelopes", "fitness", "species")

_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1050px; color: #222; padding: 0 1em; }
h1 { font-size: 1.4em; word-break: break-all; } h2 { font-size: 1.1em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.92em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; display: block; }
.players { display: flex; gap: 2em; flex-wrap: wrap; } .players div { min-width: 300px; }
.muted { color: #666; } .failed { color: #b00020; }
body.index { max-width: none; } .scroll { overflow-x: auto; } td.error { min-width: 22em; }
th.sortable { cursor: pointer; user-select: none; } th.sortable:hover { background: #f3f3f3; }
th[aria-sort=ascending]::after { content: " \\25B2"; } th[aria-sort=descending]::after { content: " \\25BC"; }
"""

_SORT_JS = """
(function () {
  var table = document.getElementById("targets");
  if (!table) { return; }
  var body = table.tBodies[0];
  var headers = table.tHead.rows[0].cells;
  function key(row, col, numeric) {
    var cell = row.cells[col];
    var raw = cell.getAttribute("data-value");
    if (raw === null) { raw = cell.textContent; }
    if (!numeric) { return raw.toLowerCase(); }
    var v = parseFloat(raw);
    return isNaN(v) ? null : v;
  }
  function sortBy(col, descending) {
    var numeric = headers[col].classList.contains("num");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, col, numeric), y = key(b, col, numeric);
      if (x === y) { return 0; }
      if (x === null) { return 1; }
      if (y === null) { return -1; }
      return (x < y ? -1 : 1) * (descending ? -1 : 1);
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var i = 0; i < headers.length; i++) { headers[i].removeAttribute("aria-sort"); }
    headers[col].setAttribute("aria-sort", descending ? "descending" : "ascending");
  }
  Array.prototype.forEach.call(headers, function (th, col) {
    th.classList.add("sortable");
    th.addEventListener("click", function () { sortBy(col, th.getAttribute("aria-sort") === "ascending"); });
  });
  window.gascarSortBy = sortBy;
})();
"""


def _href(path: Path, start: Path) -> str:
    """A relative URL from folder ``start`` to ``path`` (``#``, spaces and the like escaped)."""
    return quote(relative(path, start), safe="/")


def _fmt(v, digits: int = 4) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.{digits}g}" if math.isfinite(float(v)) else ""
    return str(v)


def _page(title: str, body: str, *, body_class: str = "") -> str:
    attr = f' class="{body_class}"' if body_class else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>{_CSS}</style>\n</head>\n"
            f"<body{attr}>\n{body}\n</body>\n</html>\n")


# -- reading saved results ---------------------------------------------------------------------------------


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    try:
        x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # noqa: BLE001 - any read failure is reported with the path
        raise BatchError(f"cannot read audio for the report ({exc})", path=path) from None
    return x.mean(axis=1), int(sr)


def _target_audio(doc: dict, copy: Path, sample_rate: int, analysis: dict) -> tuple[np.ndarray, int]:
    """The saved target copy; made from the original target when missing (and unchanged)."""
    if not copy.is_file() and doc.get("notes"):  # an instrument: its notes one after another
        from .audio import file_sha256

        srcs = [Path(p) for p in doc["notes"]]
        known = {n.get("path"): n.get("sha256") for n in ((doc.get("summary") or {}).get("analysis") or {}).get("notes", [])}
        for src in srcs:
            if not src.is_file():
                raise BatchError(f"neither the target copy nor the note {src} exists", path=copy)
            sha = known.get(str(src)) or next((v for k, v in known.items() if k and Path(k).resolve() == src), None)
            if sha and file_sha256(src) != sha:
                raise BatchError(f"the note {src} changed since it was matched; rerun the match", path=copy)
        write_target_copy([str(p) for p in srcs], copy, sample_rate, analysis)
    elif not copy.is_file():
        from .audio import file_sha256

        src = Path(doc.get("target_path") or "")
        if not src.is_file():
            raise BatchError(f"neither the target copy nor the original target ({src}) exists", path=copy)
        if doc.get("target_sha256") and file_sha256(src) != doc["target_sha256"]:
            raise BatchError(f"the original target {src} changed since it was matched; rerun the match", path=copy)
        write_target_copy(src, copy, sample_rate, analysis)
    return _read_wav(copy)


# -- one page ------------------------------------------------------------------------------------------------


def write_report_from_history(history_path: str | os.PathLike, *, index_href: str | None = None) -> Path:
    """Write ``<base>.report.html`` and its figures from the results saved beside ``<base>.history.json``.

    Parameters
    ----------
    history_path
        The target's history file.
    index_href : str, optional
        Relative link to the batch's ``index.html``.

    Returns
    -------
    Path
        The page.
    """
    from .audio import write_audio
    from .plots import envelopes_png, fitness_png, species_png, spectrograms_png
    from .preset import Preset

    hp = Path(history_path)
    doc = read_history(hp)
    folder = hp.parent
    stem = hp.name.removesuffix(HISTORY_SUFFIX)
    page = folder / (stem + PAGE_SUFFIX)
    assets = folder / (stem + ASSETS_SUFFIX)
    preset_path = folder / (doc.get("preset") or stem + PRESET_SUFFIX)
    preset = Preset.load(preset_path)
    render_rel = doc.get("render", stem + RENDER_SUFFIX)
    render_path = folder / render_rel if render_rel else None
    if render_path is not None and render_path.is_file():
        match_audio, sr = _read_wav(render_path)
    else:  # no render was written: render the preset for the page
        match_audio = preset.render_audio()
        sr = preset.render.sample_rate
        render_path = write_audio(assets / "match.wav", match_audio, sr)
    analysis = doc.get("analysis_options", (doc.get("options") or {}).get("analysis")) or {}  # older histories: options
    target_audio, tsr = _target_audio(doc, folder / (doc.get("target_copy") or stem + TARGET_COPY_SUFFIX), sr, analysis)
    if tsr != sr:
        from .audio import resample

        target_audio = resample(target_audio, tsr, sr)
    figs = {
        "spectrograms": spectrograms_png(assets / "spectrograms.png", target_audio, match_audio, sr),
        "envelopes": envelopes_png(assets / "envelopes.png", target_audio, match_audio, sr),
        "fitness": fitness_png(assets / "fitness.png", doc.get("history") or []),
        "species": species_png(assets / "species.png", doc.get("history") or []),
    }
    title = str(doc.get("target") or stem)
    target_copy = folder / (doc.get("target_copy") or stem + TARGET_COPY_SUFFIX)
    others = [(p.match or {}, _href(pp, folder), _href(rp, folder) if rp is not None else None)
              for p, pp, rp in _alternatives(preset_path)]
    body = _target_body(title, doc, preset, {k: _href(v, folder) for k, v in figs.items()},
                        target_href=_href(target_copy, folder), match_href=_href(render_path, folder),
                        preset_href=_href(preset_path, folder), index_href=index_href, others=others)
    return write_text(page, _page(f"GASCAR: {title}", body))


def _alternatives(preset_path: Path) -> list[tuple[object, Path, Path | None]]:
    """The ``--top`` presets written beside the best one (``<stem>.2.preset.json`` ...), with their renders if any."""
    from .preset import Preset

    name = preset_path.name
    stem = name.removesuffix(PRESET_SUFFIX) if name.endswith(PRESET_SUFFIX) else preset_path.stem
    out = []
    for rank in range(2, MAX_TOP + 1):
        p = preset_path.with_name(f"{stem}.{rank}{PRESET_SUFFIX}")
        if not p.is_file():
            break
        try:
            preset = Preset.load(p)
        except GascarError:
            continue
        r = p.with_name(f"{stem}.{rank}{RENDER_SUFFIX}")
        out.append((preset, p, r if r.is_file() else None))
    return out


def _pitch_fact(analysis: dict) -> str:
    """The pitch the match used and pYIN's confidence, in words."""
    from .analysis import LOW_CONFIDENCE

    if not analysis:
        return ""
    notes = analysis.get("notes")
    if notes:  # an instrument: every note at its own pitch
        given = sum(1 for n in notes if n.get("f0_source") != "pyin")
        how = "all named" if given == len(notes) else f"{given} named, {len(notes) - given} detected"
        return f"{len(notes)} notes, {notes[0].get('note')} to {notes[-1].get('note')} ({how})"
    if not analysis.get("pitched"):
        if analysis.get("f0_source") == "unpitched":
            return "none: matched as unpitched (--unpitched), the base frequency was a gene"
        return (f"none detected (pYIN confidence {_fmt(analysis.get('f0_confidence'), 2)}), "
                "so the base frequency was a gene")
    head = f"{float(analysis['f0_hz']):.1f} Hz ({analysis.get('note') or ''})"
    if analysis.get("f0_source") != "pyin":
        return head + ", given"
    conf = float(analysis.get("f0_confidence") or 0.0)
    return head + f", pYIN confidence {conf:.2f}" + (" (unsure: give the note with --note if you know it)"
                                                      if conf < LOW_CONFIDENCE else "")


def _notes_table(notes: list, preset, *, target_href: str, match_href: str) -> str:
    """An instrument match's notes: one row each (note, velocity, target, how close, how loud), with players of that
    note in the target copy and the render (which hold the notes one after another).
    """
    from .instrument import sequence_starts_s

    e = html.escape
    starts = sequence_starts_s([float(n.get("duration_s") or 0.0) for n in notes])
    rows = []
    for n, start in zip(notes, starts):
        frag = f"#t={start:.3f},{start + float(n.get('duration_s') or 0.0):.3f}"
        level = f"{float(n['level_db']):+.1f}" if n.get("level_db") is not None else ""
        rows.append(
            f"<tr><td>{e(str(n.get('note') or ''))}</td><td class=\"num\">{e(_fmt(n.get('velocity')))}</td>"
            f"<td>{e(str(n.get('target') or ''))}</td><td>{e(str(n.get('verdict') or ''))}</td>"
            f"<td class=\"num\">{e(_fmt(n.get('lsd_db'), 3))}</td><td class=\"num\">{e(_fmt(n.get('fitness')))}</td>"
            f"<td class=\"num\">{e(level)}</td>"
            f"<td><audio controls preload=\"none\" src=\"{e(target_href + frag)}\"></audio></td>"
            f"<td><audio controls preload=\"none\" src=\"{e(match_href + frag)}\"></audio></td></tr>")
    from .instrument_objective import AGGREGATE_WORDS

    agg = (preset.match or {}).get("aggregate", "mean")
    agg = AGGREGATE_WORDS.get(agg, agg)
    return ("<h2>Notes</h2><p class=\"muted\">One preset matched to every note, each rendered at its own pitch, "
            f"velocity and note-off; the fitness is the {e(agg)} over the notes plus how far their relative levels are "
            "from the targets'. Level: how much louder the note plays than its target, with the preset's one output "
            "gain.</p><div class=\"scroll\"><table><thead><tr><th>note</th><th class=\"num\">velocity</th>"
            "<th>target</th><th>verdict</th><th class=\"num\">judged dB</th><th class=\"num\">fitness</th>"
            "<th class=\"num\">level dB</th><th>target</th><th>match</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table></div>")


def _scale_table(lsd_db: float | None) -> str:
    """The verdicts' scale with this match's place on it."""
    from .closeness import MEANINGS, VERDICTS, verdict

    e = html.escape
    here = verdict(lsd_db) if lsd_db is not None else None
    rows, low = [], 0.0
    for word, upper in VERDICTS:
        span = f"{low:g} .. {upper:g} dB" if math.isfinite(upper) else f"over {low:g} dB"
        mark = f" &larr; this match ({lsd_db:.1f} dB)" if word == here else ""
        style = ' style="font-weight: bold"' if word == here else ""
        rows.append(f"<tr{style}><td>{e(word)}{mark}</td><td>{e(span)}</td><td class=\"muted\">{e(MEANINGS[word])}</td></tr>")
        low = upper
    return ("<table><thead><tr><th>verdict</th><th>judged log-spectral distance</th><th>what it means</th></tr></thead>"
            "<tbody>" + "".join(rows) + "</tbody></table>")


def _target_body(title: str, doc: dict, preset, figs: dict, *, target_href: str, match_href: str, preset_href: str,
                 index_href: str | None, others: list | None = None) -> str:
    from .synths import get_synth

    e = html.escape
    s = doc.get("summary") or {}
    out = []
    if index_href:
        out.append(f'<p><a href="{e(index_href)}">&larr; all targets</a></p>')
    out.append(f"<h1>{e(title)}</h1>")
    lsd = s.get("lsd_db", (preset.match or {}).get("lsd_db"))
    if lsd is not None:
        from .closeness import verdict

        out.append(f"<p><b>{e(verdict(lsd))}</b>: judged {e(f'{lsd:.1f}')} dB from the target "
                   "(log-spectral distance at equal loudness; 0 is identical).</p>")
    facts = [("synth", s.get("synth", preset.synth)), ("fitness", _fmt(s.get("fitness"))),
             ("pitch", _pitch_fact(s.get("analysis") or {})),
             ("level", f"{preset.render.gain_db:+.1f} dB output gain" if preset.render.gain_db else ""),
             ("evaluations", _fmt(s.get("evaluations"))), ("seconds", _fmt(s.get("seconds"), 3)),
             ("seed", _fmt(s.get("seed"))), ("stopped", s.get("stop_reason", ""))]
    out.append("<p>" + " &middot; ".join(f"{e(k)}: <b>{e(str(v))}</b>" for k, v in facts if v not in ("", None)) + "</p>")
    if lsd is not None:
        out.append("<h2>How close</h2>" + _scale_table(lsd))
    notes = (preset.match or {}).get("notes")
    if notes:
        out.append(_notes_table(notes, preset, target_href=target_href, match_href=match_href))
    if others:
        items = []
        for rank, (m, p_href, r_href) in enumerate(others, start=2):
            judged = f", {m['verdict']} ({m['lsd_db']:.1f} dB)" if m.get("lsd_db") is not None else ""
            listen = f' &middot; <a href="{e(r_href)}">render</a>' if r_href else ""
            items.append(f'<li>{rank}. <a href="{e(p_href)}">preset</a>{listen}: fitness {e(_fmt(m.get("fitness")))}'
                         f"{e(judged)}</li>")
        out.append("<h2>Alternatives (--top)</h2><p class=\"muted\">The next best presets that sound different.</p>"
                   "<ol style=\"list-style: none; padding: 0\">" + "".join(items) + "</ol>")
    comps = s.get("components") or {}
    if comps:
        out.append("<table><thead><tr><th>fitness component</th><th class=\"num\">value</th></tr></thead><tbody>"
                   + "".join(f"<tr><td>{e(k)}</td><td class=\"num\">{e(_fmt(v))}</td></tr>" for k, v in comps.items())
                   + "</tbody></table>")
    standings = s.get("standings") or {}
    if len(standings) > 1:
        out.append("<p class=\"muted\">best fitness per synth: "
                   + ", ".join(f"{e(k)} {e(_fmt(v))}" for k, v in sorted(standings.items(), key=lambda kv: kv[1])) + "</p>")
    out.append("<h2>Listen</h2><div class=\"players\">"
               f"<div><p>Target</p><audio controls preload=\"metadata\" src=\"{e(target_href)}\"></audio></div>"
               f"<div><p>Match</p><audio controls preload=\"metadata\" src=\"{e(match_href)}\"></audio></div></div>")
    captions = {
        "spectrograms": "Log-mel spectrograms, target and match on the same colour scale (dB re the louder peak)",
        "envelopes": "Amplitude envelopes (frame RMS), overlaid",
        "fitness": "Best (solid) and median (dashed) fitness per generation",
        "species": "Species per generation",
    }
    for name in FIGURES:
        out.append(f"<h2>{e(captions[name])}</h2><img src=\"{e(figs[name])}\" alt=\"{e(captions[name])}\">")
    out.append(f"<h2>Preset parameters</h2><p><a href=\"{e(preset_href)}\">preset JSON</a> &middot; rendered at "
               f"{e(_fmt(preset.render.f0_hz))} Hz for {e(_fmt(preset.render.duration_s, 3))} s"
               + (f", note-off at {e(_fmt(preset.render.hold_s, 3))} s" if preset.render.hold_s is not None else "")
               + "</p>")
    space = get_synth(preset.synth).params
    rows = []
    for name, value in preset.params.items():
        spec = space[name] if name in space else None
        unit = spec.unit if spec is not None else ""
        desc = spec.description if spec is not None else ""
        shown = value if isinstance(value, str) else _fmt(value)
        rows.append(f"<tr><td>{e(name)}</td><td class=\"num\">{e(str(shown))}</td><td>{e(unit)}</td>"
                    f"<td class=\"muted\">{e(desc)}</td></tr>")
    out.append("<table><thead><tr><th>parameter</th><th class=\"num\">value</th><th>unit</th><th>what it does</th></tr>"
               "</thead><tbody>" + "".join(rows) + "</tbody></table>")
    return "\n".join(out)


def write_target_report(out_dir: str | os.PathLike, base: str, *, index_href: str | None = None) -> Path:
    """Write the page of the batch target whose results are ``out_dir/<base>.*``."""
    return write_report_from_history(Path(out_dir) / (base + HISTORY_SUFFIX), index_href=index_href)


def write_match_report(result, *, target_path: str | os.PathLike, preset_path: str | os.PathLike,
                       render_path: str | os.PathLike | None = None) -> Path:
    """Save what a report needs beside a ``gascar match`` result, then write its page.

    Writes ``<stem>.history.json``, ``<stem>.target.wav`` (the target as
    analysed) and ``<stem>.report.html`` with its figures beside the preset,
    where ``<stem>`` is the preset's name without ``.preset.json``.

    Parameters
    ----------
    result : gascar.matching.MatchResult
    target_path
        The matched sound file.
    preset_path
        Where the best preset was written.
    render_path : optional
        Where its render was written; None renders the preset for the page.

    Returns
    -------
    Path
        The page.
    """
    preset_path = Path(preset_path)
    name = preset_path.name
    stem = name.removesuffix(PRESET_SUFFIX) if name.endswith(PRESET_SUFFIX) else preset_path.stem
    folder = preset_path.parent
    history = folder / (stem + HISTORY_SUFFIX)
    render_rel = "" if render_path is None else relative(render_path, folder)
    sha = (result.preset.match or {}).get("target_sha256")
    notes = [n["path"] for n in (getattr(result, "analysis", None) or {}).get("notes", [])]  # an instrument's files
    if notes:
        target_path = Path(str((result.preset.match or {}).get("target") or Path(target_path).name))
    row = {"target": Path(target_path).name, "status": "ok", "synth": result.synth, "fitness": result.fitness,
           "components": json_ready(dict(result.components)), "evaluations": result.evaluations,
           "seconds": round(result.seconds, 3), "seed": result.seed, "stop_reason": result.stop_reason}
    options = getattr(result, "options", None)
    write_history(history, result, target_rel=Path(target_path).name, target_path=notes[0] if notes else target_path,
                  target_sha256=sha, row=row, preset=relative(preset_path, folder), render=render_rel, options=options,
                  notes=notes or None)
    write_target_copy(notes or Path(target_path), folder / (stem + TARGET_COPY_SUFFIX), result.preset.render.sample_rate,
                      options.analysis_options() if options is not None else None)
    return write_report_from_history(history)


# -- the index -------------------------------------------------------------------------------------------------


def write_index(out_dir: str | os.PathLike, rows: list[dict], *, title: str = "GASCAR batch") -> Path:
    """Write ``out_dir/index.html``: a table of every target (click a header to sort), linking to each page.

    Parameters
    ----------
    out_dir
        The batch folder.
    rows : list of dict
        Summary rows (:func:`gascar.batch.run_batch`).
    title : str
    """
    out = Path(out_dir)
    e = html.escape
    comps = component_names(rows)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    head = ["target", "status", "synth", "verdict", "lsd_db", "fitness", *comps, "f0_hz", "f0_confidence", "evaluations",
            "seconds", "error"]
    numeric = {"lsd_db", "fitness", *comps, "f0_hz", "f0_confidence", "evaluations", "seconds"}
    cells = []
    for r in rows:
        page = _page_of(out, r)
        name = e(r["target"])
        link = f'<a href="{e(_href(page, out))}">{name}</a>' if page is not None else name
        status = f'<span class="failed">{e(r["status"])}</span>' if r["status"] == "failed" else e(r["status"])
        c = r.get("components") or {}
        tds = [f"<td>{link}</td>", f"<td>{status}</td>", f"<td>{e(r.get('synth') or '')}</td>",
               f"<td>{e(r.get('verdict') or '')}</td>"]
        for v in [r.get("lsd_db"), r.get("fitness"), *(c.get(k) for k in comps), r.get("f0_hz"), r.get("f0_confidence"),
                  r.get("evaluations"), r.get("seconds")]:
            raw = "" if v is None or (isinstance(v, float) and not math.isfinite(v)) else repr(v)
            tds.append(f'<td class="num" data-value="{e(raw)}">{e(_fmt(v))}</td>')
        tds.append(f"<td class=\"muted error\">{e(r.get('error') or '')}</td>")
        cells.append("<tr>" + "".join(tds) + "</tr>")
    ths = "".join(f'<th class="num">{e(h)}</th>' if h in numeric else f"<th>{e(h)}</th>" for h in head)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    body = (f"<h1>{e(title)}</h1>\n<p>{len(rows)} targets: {e(summary)}. Click a column header to sort; "
            "lower fitness and lsd_db (the judged distance in dB) are better; a low f0_confidence says the pitch "
            "detector was unsure (rerun that target with --note). <a href=\"summary.csv\">summary.csv</a></p>\n"
            f"<div class=\"scroll\"><table id=\"targets\"><thead><tr>{ths}</tr></thead>\n<tbody>\n" + "\n".join(cells)
            + "\n</tbody></table></div>\n"
            f"<script>{_SORT_JS}</script>")
    return write_text(out / "index.html", _page(title, body, body_class="index"))


def _page_of(out: Path, row: dict) -> Path | None:
    """The row's report page, if it exists."""
    if row.get("report"):
        p = out / row["report"]
        return p if p.is_file() else None
    preset = row.get("preset") or ""
    if preset.endswith(PRESET_SUFFIX):
        p = out / (preset.removesuffix(PRESET_SUFFIX) + PAGE_SUFFIX)
        return p if p.is_file() else None
    return None


# -- rebuilding ------------------------------------------------------------------------------------------------


def rebuild_reports(run_dir: str | os.PathLike) -> tuple[list[Path], Path | None, list[str]]:
    """Rewrite every page under ``run_dir`` from saved results; for a batch folder also ``index.html``.

    Parameters
    ----------
    run_dir
        A ``gascar batch`` output folder, or a folder with ``gascar match --report`` results.

    Returns
    -------
    pages : list of Path
    index : Path or None
        Written when ``run_dir`` holds a batch ``summary.json``.
    errors : list of str
        Pages that could not be written, with the reason.

    Raises
    ------
    BatchError
        When ``run_dir`` holds no saved results.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise BatchError("not a folder; give a gascar batch output folder", path=root)
    histories = sorted(p for p in root.rglob("*" + HISTORY_SUFFIX) if CHECKPOINT_DIR not in p.relative_to(root).parts)
    is_batch = (root / "summary.json").is_file()
    if not histories:
        raise BatchError("no saved results (*.history.json) here; run gascar batch, or gascar match --report", path=root)
    pages, errors = [], []
    for h in histories:
        rel_base = h.relative_to(root).as_posix().removesuffix(HISTORY_SUFFIX)
        try:
            pages.append(write_report_from_history(h, index_href=index_href(rel_base) if is_batch else None))
        except GascarError as exc:
            errors.append(str(exc))
    index = None
    if is_batch:
        doc = read_summary(root)
        rows = doc.get("targets") or []
        for r in rows:
            page = _page_of(root, {**r, "report": ""})
            r["report"] = relative(page, root) if page is not None and r.get("status") == "ok" else ""
        meta = {k: v for k, v in doc.items() if k not in ("format", "version", "counts", "targets")}
        write_summary(root, rows, meta)
        index = write_index(root, rows, title=f"GASCAR batch: {Path(doc.get('root') or root).name}")
    return pages, index, errors

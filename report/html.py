"""HTML assembly of the pair quality report: one self-contained page, no external request.

Catalog strings are untrusted: every one that goes into markup passes through
``html.escape``, and table rows travel as JSON inside ``<script
type="application/json">`` (with ``<``, ``>`` and ``&`` escaped) and are put
into the DOM with ``textContent`` only. The CSS and JavaScript below are
written by hand and small; the tables sort, search, filter, paginate and
export CSV in the browser, so thousands of rows stay responsive, and a pair's
listen cell scrolls to its worst-segment excerpt and plays it.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vocalmine.report.data import NOT_BUILT, Funnel

PAGE_ROWS = 50  # table rows shown per page
ID_COLUMNS = ("pair_id", "tracks")  # shown in a monospace font


@dataclass(frozen=True)
class ExampleView:
    """One example pair: its spectrogram figure and audio excerpts."""

    label: str  # best | median | worst
    pair_id: str
    caption: str  # artist – title, plain text (escaped on output)
    facts: tuple[tuple[str, str], ...]  # (name, value) shown under the caption
    image: str  # PNG data: URI
    audio: tuple[tuple[str, str], ...] = ()  # (name, Ogg data: URI)
    note: str = ""  # why audio is missing, if it is


@dataclass(frozen=True)
class SegmentView:
    """One pair's worst segment: what the gate measured there, and excerpts to hear it."""

    pair_id: str  # the pairs table's listen cell finds the article by it
    caption: str  # artist – title / instrumental title, plain text (escaped on output)
    facts: tuple[tuple[str, str], ...]  # (name, value) shown under the caption
    audio: tuple[tuple[str, str], ...] = ()  # (name, Ogg data: URI)
    note: str = ""  # why audio is missing, if it is


@dataclass(frozen=True)
class PageInput:
    """Everything the page shows."""

    funnel: Funnel
    pairs: pd.DataFrame  # report_data.pairs_table
    rejects: pd.DataFrame  # report_data.rejects_table
    figures: tuple[tuple[str, str], ...]  # (caption, PNG data: URI)
    examples: tuple[ExampleView, ...]
    provenance: tuple[tuple[str, str], ...]  # (name, value)
    parameters: tuple[tuple[str, str], ...]  # (name, value)
    max_rows: int = 20000  # rows per table embedded in the page; more are cut (worst first for pairs)
    notes: tuple[str, ...] = field(default_factory=tuple)  # warnings shown at the top
    segments: tuple[SegmentView, ...] = ()  # the pairs with the lowest worst-segment coherence, lowest first
    segments_note: str = ""  # why no segment can be heard, if none can


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _number(value, digits: int):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, (float, np.floating)):
        return round(float(value), digits)
    if isinstance(value, (np.integer,)):
        return int(value)
    return value


def table_json(df: pd.DataFrame, *, max_rows: int, digits: int = 4) -> str:
    """A compact JSON document {columns, types, rows, total} safe to embed in a script element."""
    cut = df.head(max_rows)
    types = ["num" if pd.api.types.is_numeric_dtype(df[c]) else "id" if c in ID_COLUMNS else "str" for c in df.columns]
    columns = []
    for c, t in zip(df.columns, types):
        col = cut[c]
        if t == "num":
            values = [_number(v, digits) for v in col.astype(float).round(digits).tolist()]
        else:
            values = col.fillna("").astype(str).tolist()
        columns.append(values)
    rows = [list(r) for r in zip(*columns)] if columns else []
    doc = {"columns": list(df.columns), "types": types, "rows": rows, "total": len(df)}
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _funnel_html(funnel: Funnel) -> str:
    out = ['<table class="funnel"><thead><tr><th>Step</th><th>Count</th><th></th><th>Set aside on the way (click to '
           'list)</th></tr></thead><tbody>']
    top = {}
    for step in funnel.steps:
        if step.count is not None:
            top.setdefault(step.unit, step.count)
    for step in funnel.steps:
        count = "—" if step.count is None else f"{step.count:,}"
        width = 0 if not step.count or not top.get(step.unit) else max(1, round(100 * step.count / top[step.unit]))
        drops = []
        for d in step.drops:
            if d.reason == NOT_BUILT:
                attrs = f'data-table="pairs" data-filter-status="{NOT_BUILT}"'
            else:
                attrs = f'data-table="rejects" data-filter-stage="{_e(d.stage)}" data-filter-reason="{_e(d.reason)}"'
            drops.append(
                f'<a href="#rejects-section" class="reason" {attrs}>{_e(d.stage)}/<b>{_e(d.reason)}</b></a>'
                f' <span class="n" data-stage="{_e(d.stage)}" data-reason="{_e(d.reason)}">{d.count:,}</span>'
            )
        out.append(
            f'<tr><td>{_e(step.label)} <span class="unit">({_e(step.unit)})</span></td>'
            f'<td class="count" data-step="{_e(step.key)}">{count}</td>'
            f'<td class="barcell"><div class="bar" style="width:{width}%"></div></td>'
            f'<td>{" · ".join(drops) or "<span class=unit>none</span>"}</td></tr>'
        )
    for s in funnel.splits:
        out.append(
            '<tr class="split"><td>↳ <a href="#pairs-section" class="reason" data-table="pairs" '
            f'data-filter-split="{_e(s.split)}"'
            f' data-filter-status="kept">{_e(s.split)}</a></td>'
            f'<td class="count" data-split="{_e(s.split)}">{s.patches:,}</td><td></td>'
            f'<td><span class="unit">patches from</span> <span data-split-pairs="{_e(s.split)}">{s.pairs:,}</span>'
            f' <span class="unit">kept pairs</span></td></tr>'
        )
    out.append("</tbody></table>")
    return "\n".join(out)


def _table_block(key: str, title: str, df: pd.DataFrame, max_rows: int, help_text: str) -> str:
    cut = "" if len(df) <= max_rows else (
        f'<p class="warn">Showing {max_rows:,} of {len(df):,} rows (the first in the order below); '
        "the funnel counts cover them all.</p>")
    return (
        f'<section id="{key}-section"><h2>{_e(title)} <span class="unit">({len(df):,})</span></h2>'
        f"<p class=help>{help_text}</p>{cut}"
        f'<div class="tablebox" data-key="{key}"></div>'
        f'<script type="application/json" id="{key}-data">{table_json(df, max_rows=max_rows)}</script></section>'
    )


def _examples_html(examples: tuple[ExampleView, ...]) -> str:
    if not examples:
        return "<p class=help>No kept pairs with patches yet: run <code>vocalmine build</code>.</p>"
    parts = []
    for ex in examples:
        facts = " · ".join(f"{_e(k)} <b>{_e(v)}</b>" for k, v in ex.facts)
        audio = _clips(ex.audio)
        note = f'<p class="warn">{_e(ex.note)}</p>' if ex.note else ""
        parts.append(
            f'<article class="example" data-pair="{_e(ex.pair_id)}"><h3>{_e(ex.label)}: {_e(ex.caption)}</h3>'
            f'<p class="help">pair {_e(ex.pair_id)} · {facts}</p>'
            f'<img alt="spectrograms of the {_e(ex.label)} pair" src="{ex.image}">'
            f'<div class="clips">{audio}</div>{note}</article>'
        )
    return "\n".join(parts)


def _clips(audio: tuple[tuple[str, str], ...]) -> str:
    return "".join(
        f'<figure class="clip"><figcaption>{_e(name)}</figcaption>'
        f'<audio controls preload="none" src="{uri}"></audio></figure>'
        for name, uri in audio
    )


def _segments_html(segments: tuple[SegmentView, ...], note: str) -> str:
    if not segments:
        return f"<p class=help>{_e(note or 'No pair has a judged segment yet: run vocalmine build.')}</p>"
    parts = [f'<p class="warn">{_e(note)}</p>'] if note else []
    for seg in segments:
        facts = " · ".join(f"{_e(k)} <b>{_e(v)}</b>" for k, v in seg.facts)
        warn = f'<p class="warn">{_e(seg.note)}</p>' if seg.note else ""
        parts.append(
            f'<article class="segment" data-pair="{_e(seg.pair_id)}"><div><h3>{_e(seg.caption)}</h3>'
            f'<p class="help">pair {_e(seg.pair_id)} · {facts}</p>{warn}</div>'
            f'<div class="clips">{_clips(seg.audio)}</div></article>'
        )
    return "\n".join(parts)


def _dl(items: tuple[tuple[str, str], ...]) -> str:
    return "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items) + "</dl>"


def render_page(page: PageInput) -> str:
    """The whole report as one HTML string."""
    kept, matched = page.funnel.step("kept").count, page.funnel.step("pairs").count
    head_counts = (f"{matched:,} matched pairs, {len(page.pairs):,} after content checks, "
                   f"{'—' if kept is None else f'{kept:,}'} kept for training, {len(page.rejects):,} rejects")
    notes = "".join(f'<p class="warn">{_e(n)}</p>' for n in page.notes)
    figures = "".join(
        f'<figure><img alt="{_e(caption)}" src="{uri}"><figcaption>{_e(caption)}</figcaption></figure>'
        for caption, uri in page.figures
    )
    body = f"""
<header><h1>vocalmine pair quality report</h1><p>{_e(head_counts)}</p>{notes}
<nav><a href="#funnel-section">Funnel</a> <a href="#plots-section">Distributions</a> <a
href="#examples-section">Examples</a>
<a href="#segments-section">Worst segments</a> <a href="#pairs-section">Pairs</a> <a href="#rejects-section">Rejects</a>
<a href="#provenance-section">Provenance</a></nav></header>
<main>
<section id="funnel-section"><h2>Funnel</h2>
<p class="help">Catalog rows and valid rows count CSV rows; a row whose audio cannot be used (content/undecodable,
for one) is set aside before pairing. A <b>candidate</b> is an (original, instrumental) pair that
pairing considered: every matched pair plus every pairing reject that names a pair id (title_mismatch,
duration_mismatch, lost_to_better_match); instrumentals with no candidate at all (no_original) drop out before.
A <b>matched</b> pair is one that pairing chose, one-to-one; nothing else on this page is called matched.
Content checks run on decoded audio and leave the pairs of pairs.parquet; quality checks are the features stage's
and leave the pairs <b>kept</b> for training.
Bars compare a step with the first step of the same unit.</p>
{_funnel_html(page.funnel)}</section>
<section id="plots-section"><h2>Distributions</h2>{figures}</section>
<section id="examples-section"><h2>Best, median and worst kept pairs</h2>
<p class="help">Ranked by quality = the lower of the whole-track and the worst segment's phase coherence, the two
measures the quality gate decides on, among the kept pairs that have patches. Spectrograms come from the shards
(magnitudes divided by the pair's max |X|, dB). Excerpts, where the derived vocal is loudest: original, the aligned
instrumental × g, and the vocal max(|X| − g·|Y_i|, 0) with the mixture's phase; each is peak-normalised,
8192 Hz Ogg Vorbis.</p>
{_examples_html(page.examples)}</section>
<section id="segments-section"><h2>Worst segments</h2>
<p class="help">The pairs whose worst segment has the lowest phase coherence, kept or excluded, lowest first: the
original and the aligned instrumental × g around that segment, so you can hear whether it is another edit or
another take there. The pairs table's <i>listen</i> column jumps here.</p>
{_segments_html(page.segments, page.segments_note)}</section>
{_table_block("pairs", "Pairs after content checks", page.pairs, page.max_rows,
              "Every pair of pairs.parquet (matched, and past the content checks) with its quality record, worst "
              "quality first. <i>status</i>: kept (for training), excluded (by a quality check, see <i>reason</i>) or "
              "not_built (the features stage has not seen it). <i>coherence</i> and <i>segment_coherence</i> (the "
              "worst segment, starting <i>segment_start_s</i> into the original) are what the gate decides on; "
              "<i>quality</i> is the lower of the two. Click a header to sort (<i>segment_coherence</i>: worst "
              "segment first), type to search every column; ▶ in <i>listen</i> plays the worst segment.")}
{_table_block("rejects", "Rejects", page.rejects, page.max_rows,
              "Every row or candidate set aside, by stage and reason, with the fields of the input it came from: "
              "<i>tracks</i> are track ids (original + instrumental for a pair), <i>files</i> are audio paths under "
              "the audio root. The full original rows are in rejects.parquet (column <i>row</i>).")}
<section id="provenance-section"><h2>Provenance</h2>{_dl(page.provenance)}<h3>Stage
parameters</h3>{_dl(page.parameters)}</section>
</main>"""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
        "media-src data: blob:; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
        f"<title>vocalmine report</title><style>{CSS}</style></head><body>{body}"
        f"<script>const PAGE_ROWS={PAGE_ROWS};{JS}</script></body></html>\n"
    )


CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header,main{max-width:1400px;margin:auto;padding:0 16px}header h1{margin:16px 0 4px}
nav a{margin-right:12px}section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 16px;margin:14px 0}
h2{margin:6px 0}.help{color:#555;font-size:13px}.warn{color:#a33}.unit{color:#888;font-size:12px}
table{border-collapse:collapse;width:100%}th,td{padding:3px 6px;border-bottom:1px solid
#eee;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}.funnel
td.count{text-align:right;font-weight:600;white-space:nowrap}
.barcell{width:22%}.bar{height:12px;background:#2b7bba;border-radius:2px}a.reason{cursor:pointer}
tr.split td{background:#f6f9fc}.tablebox{overflow-x:auto}.tablebox
th{cursor:pointer;user-select:none;white-space:nowrap;background:#f2f2f2}
.tablebox th.asc:after{content:" ▲"}.tablebox th.desc:after{content:"
▼"}.controls{display:flex;gap:8px;flex-wrap:wrap;align-items:center;margin:6px 0}
.controls input{padding:4px 6px;min-width:240px}.chip{background:#e8f0fb;border-radius:10px;padding:1px
8px;cursor:pointer}
figure{margin:8px 0}img{max-width:100%;height:auto}.clips{display:flex;flex-wrap:wrap;gap:12px}.clip
figcaption{font-size:12px;color:#555}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;font-size:13px}dd{margin:0;word-break:break-all}
td.str{max-width:320px;min-width:96px;overflow-wrap:break-word}td.num{white-space:nowrap}
td.c-status,td.c-reason,td.c-stage,td.c-listen{white-space:nowrap}
td.id{font-family:ui-monospace,monospace;font-size:12px;white-space:nowrap}
.segment{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:2px 16px;
border-top:1px solid #eee;padding:2px 0}.segment>div:first-child{flex:1 1 400px;min-width:0}
.segment h3{font-size:14px;margin:4px 0}.segment p{margin:2px 0}
td.st-kept{color:#1b6e2a;font-weight:600}td.st-excluded,td.st-rejected{color:#a33;font-weight:600}td.st-not_built{color:#888}
"""

JS = r"""
const tables={};
function cmp(a,b){if(a===b)return 0;if(a===null||a==='')return 1;if(b===null||b==='')return -1;return a<b?-1:1;}
function makeTable(box){
  const key=box.dataset.key, doc=JSON.parse(document.getElementById(key+'-data').textContent);
  const t={key,box,doc,filters:{},query:'',sortCol:-1,sortDir:1,page:0,view:doc.rows};
  const controls=document.createElement('div');controls.className='controls';
  const search=document.createElement('input');search.type='search';search.placeholder='search '+key+'…';
  search.setAttribute('aria-label','search '+key);search.className='search';
  search.addEventListener('input',()=>{t.query=search.value.toLowerCase();t.page=0;update(t);});
  const chips=document.createElement('span');chips.className='chips';
  const info=document.createElement('span');info.className='info';
  const prev=document.createElement('button');prev.textContent='‹ prev';prev.className='prev';
  const next=document.createElement('button');next.textContent='next ›';next.className='next';
  prev.addEventListener('click',()=>{if(t.page>0){t.page--;draw(t);}});
  next.addEventListener('click',()=>{if((t.page+1)*PAGE_ROWS<t.view.length){t.page++;draw(t);}});
  const csv=document.createElement('button');csv.textContent='download CSV';csv.className='csv';
  csv.addEventListener('click',()=>downloadCsv(t));
  controls.append(search,chips,prev,info,next,csv);
  const table=document.createElement('table');const thead=table.createTHead();const hr=thead.insertRow();
  doc.columns.forEach((c,i)=>{const th=document.createElement('th');th.textContent=c;th.dataset.col=i;
    th.addEventListener('click',()=>{t.sortDir=(t.sortCol===i)?-t.sortDir:1;t.sortCol=i;update(t);});hr.appendChild(th);});
  t.tbody=table.createTBody();t.thead=hr;t.info=info;t.chips=chips;t.search=search;
  box.append(controls,table);tables[key]=t;update(t);
}
function update(t){
  const cols=t.doc.columns, f=Object.entries(t.filters).map(([c,v])=>[cols.indexOf(c),v]).filter(([i])=>i>=0);
  let rows=t.doc.rows.filter(r=>f.every(([i,v])=>String(r[i])===v));
  if(t.query){rows=rows.filter(r=>r.some(v=>v!==null&&String(v).toLowerCase().includes(t.query)));}
  if(t.sortCol>=0){const i=t.sortCol,d=t.sortDir;rows=rows.slice().sort((a,b)=>{const x=a[i],y=b[i];
    if(x===null||x==='')return (y===null||y==='')?0:1;if(y===null||y==='')return -1;return d*cmp(x,y);});}
  t.view=rows;t.page=Math.min(t.page,Math.max(0,Math.ceil(rows.length/PAGE_ROWS)-1));
  Array.from(t.thead.children).forEach((th,i)=>{th.className=i===t.sortCol?(t.sortDir>0?'asc':'desc'):'';});
  t.chips.replaceChildren(...Object.entries(t.filters).map(([c,v])=>{const s=document.createElement('span');
    s.className='chip';s.textContent=c+' = '+v+' ✕';s.addEventListener('click',()=>{delete
    t.filters[c];t.page=0;update(t);});return s;}));
  draw(t);
}
function draw(t){
  const start=t.page*PAGE_ROWS, rows=t.view.slice(start,start+PAGE_ROWS), types=t.doc.types;
  const frag=document.createDocumentFragment();
  for(const r of rows){const tr=document.createElement('tr');
    r.forEach((v,i)=>{const td=document.createElement('td');td.className=types[i];td.textContent=v===null?'':String(v);
      td.classList.add('c-'+t.doc.columns[i]);if(t.doc.columns[i]==='status'&&v)td.classList.add('st-'+v);
      if(t.doc.columns[i]==='listen'&&v)listenLink(td,r[t.doc.columns.indexOf('pair_id')]);tr.appendChild(td);});
    frag.appendChild(tr);}
  t.tbody.replaceChildren(frag);
  t.info.textContent=t.view.length?`${start+1}–${start+rows.length} of ${t.view.length}`:'no rows';
}
// a listen cell scrolls to the pair's worst-segment excerpt and plays it (the click allows playback)
function listenLink(td,pid){const a=document.createElement('a');a.href='#segments-section';a.className='listen';
  a.textContent=td.textContent;a.addEventListener('click',ev=>{ev.preventDefault();
    const el=Array.from(document.querySelectorAll('article.segment')).find(e=>e.dataset.pair===pid);if(!el)return;
    el.scrollIntoView();const au=el.querySelector('audio');if(au)au.play().catch(()=>{});});td.replaceChildren(a);}
function csvCell(v){const s=v===null?'':String(v);return /[",\n\r]/.test(s)?'"'+s.replace(/"/g,'""')+'"':s;}
function downloadCsv(t){
  const lines=[t.doc.columns.map(csvCell).join(',')].concat(t.view.map(r=>r.map(csvCell).join(',')));
  const a=document.createElement('a');a.href=URL.createObjectURL(new Blob([lines.join('\n')],{type:'text/csv'}));
  a.download=t.key+'.csv';document.body.appendChild(a);a.click();a.remove();
}
document.querySelectorAll('.tablebox').forEach(makeTable);
document.querySelectorAll('a.reason').forEach(a=>a.addEventListener('click',ev=>{
  const t=tables[a.dataset.table];if(!t)return;t.filters={};
  for(const [k,v] of Object.entries(a.dataset)){if(k.startsWith('filter')){t.filters[k.slice(6).toLowerCase()]=v;}}
  t.query='';t.search.value='';t.page=0;update(t);
  ev.preventDefault();t.box.parentElement.scrollIntoView();
}));
"""

/**
 * The claims report as one self-contained HTML page: styles, the data (as JSON) and the drawing
 * script are inline, and its Content-Security-Policy forbids every request, so opening it reaches
 * no network. The state table and the verify line are plain HTML; the timeline is drawn on a canvas
 * by timeline-script.ts.
 */
import type { ClaimsReport } from './claims-report.js'
import { TIMELINE_SCRIPT } from './timeline-script.js'

const STYLE = `
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 20px 0 6px; }
.meta { color: #555; margin: 2px 0; }
.verify-ok { color: #1a7f37; } .verify-bad { color: #b42318; font-weight: bold; }
#legend { display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 10px 0; align-items: center; }
#legend span { display: inline-flex; align-items: center; gap: 4px; }
.swatch { width: 14px; height: 10px; display: inline-block; border-radius: 2px; }
#controls { margin: 6px 0; } #controls button { margin-right: 4px; }
#timeline-scroll { overflow-y: auto; border: 1px solid #ccc; position: relative; }
#timeline { position: sticky; top: 0; display: block; width: 100%; cursor: grab; }
#tooltip { position: fixed; pointer-events: none; background: #fffffe; border: 1px solid #888; padding: 4px 6px; font-size: 12px; white-space: pre; display: none; box-shadow: 0 1px 4px rgba(0,0,0,.2); }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
`

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}

/** JSON that cannot end the script element it sits in, nor break a JavaScript string. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

function iso(timestamp: number | null): string {
  return timestamp === null ? '—' : new Date(timestamp).toISOString()
}

function verifyLine(report: ClaimsReport): string {
  const verify = report.verify
  return verify.ok
    ? `<p id="verify" class="verify-ok">The log is whole: ${verify.length} records, head hash ${escapeHtml(verify.headHash)}</p>`
    : `<p id="verify" class="verify-bad">The log is damaged at seq ${verify.seq}: ${escapeHtml(verify.problem)}. The ${verify.length} records before it are whole, and this report shows them.</p>`
}

function stateTable(report: ClaimsReport): string {
  const rows = report.state.changeSources
    .map((changeSource) => `<tr><td>${changeSource.id}</td><td>${escapeHtml(changeSource.name)}</td><td>${changeSource.masterid ?? '—'}</td></tr>`)
    .join('\n')
  return `<h2>State at the end of the range</h2>
<p class="meta">After seq ${report.state.seq} (${iso(report.state.timestamp)}), hash ${escapeHtml(report.state.hash)}</p>
<table id="state"><thead><tr><th>id</th><th>name</th><th>held by master</th></tr></thead><tbody>
${rows || '<tr><td colspan="3">(no change sources)</td></tr>'}
</tbody></table>`
}

export function renderReportHtml(report: ClaimsReport): string {
  const { range } = report
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Claims timeline: ${escapeHtml(report.source)}</title>
<style>${STYLE}</style></head>
<body>
<h1>Claims timeline</h1>
<p class="meta">${escapeHtml(report.source)}: from ${iso(range.from)} to ${iso(range.to)}${range.since === null && range.until === null ? ' (the whole log)' : ''}</p>
<p class="meta">${report.lanes.length} change sources, ${report.intervals.length} claims, ${report.gaps.length} gaps where nobody held a change source, masters ${report.masters.join(', ') || '—'}</p>
${verifyLine(report)}
<div id="legend"></div>
<div id="controls"><button id="zoom-in">zoom in</button><button id="zoom-out">zoom out</button><button id="zoom-fit">fit</button>
<span class="meta">drag to pan, Ctrl + wheel to zoom, wheel to scroll the lanes; hover a bar for its claim</span></div>
<div id="timeline-scroll"><canvas id="timeline"></canvas><div id="timeline-spacer"></div></div>
<div id="tooltip"></div>
${stateTable(report)}
<noscript><p>The timeline needs JavaScript; the same data: <code>changesources report --json</code>.</p></noscript>
<script type="application/json" id="report-data">${inlineJson(report)}</script>
<script>${TIMELINE_SCRIPT}</script>
</body></html>
`
}

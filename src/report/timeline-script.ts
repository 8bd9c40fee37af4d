/**
 * The report page's drawing script, run in the browser: the timeline on one canvas, one lane per
 * change source, drawing only the lanes in view and, per lane, only the bars in the time window
 * (found by binary search: a lane's claims do not overlap, so starts and ends are both sorted).
 * That keeps tens of thousands of claims responsive. `window.claimsTimeline.shapes()` lists the
 * bars of the last frame, for tests and for anyone who wants the picture as data.
 * Plain ES2020 in a string: it is inlined in the page as it stands.
 */
export const TIMELINE_SCRIPT = String.raw`
(function () {
  'use strict'
  var data = JSON.parse(document.getElementById('report-data').textContent)
  var LANE_H = 22, BAR_H = 14, AXIS_H = 30, LABEL_W = 260, RIGHT_PAD = 12, MAX_VIEW_H = 640
  var PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#ff9da7', '#bab0ac', '#e15759']
  var GAP_FILL = 'rgba(225, 60, 40, 0.16)', GAP_LINE = 'rgba(200, 40, 20, 0.75)'

  function masterColor(masterid) {
    var index = data.masters.indexOf(masterid)
    return index < PALETTE.length ? PALETTE[index] : 'hsl(' + Math.round((index * 137.508) % 360) + ', 55%, 45%)'
  }
  var markOf = {}
  data.endings.forEach(function (entry) { markOf[entry.ending] = entry.mark })

  var laneBars = data.lanes.map(function () { return [] })
  var laneGaps = data.lanes.map(function () { return [] })
  data.intervals.forEach(function (interval) { laneBars[interval.lane].push(interval) })
  data.gaps.forEach(function (gap) { laneGaps[gap.lane].push(gap) })
  function byStart(a, b) { return a.start - b.start }
  laneBars.forEach(function (bars) { bars.sort(byStart) })
  laneGaps.forEach(function (gaps) { gaps.sort(byStart) })

  /** The index of the first item whose end is at or after t (items sorted by start, not overlapping). */
  function firstEndingFrom(items, t) {
    var low = 0, high = items.length
    while (low < high) {
      var middle = (low + high) >> 1
      if (items[middle].end < t) low = middle + 1
      else high = middle
    }
    return low
  }

  var scroller = document.getElementById('timeline-scroll')
  var canvas = document.getElementById('timeline')
  var spacer = document.getElementById('timeline-spacer')
  var tooltip = document.getElementById('tooltip')
  var context = canvas.getContext('2d')
  var width = 0, height = 0
  var fullFrom = data.extent.from, fullTo = data.extent.to
  if (fullTo <= fullFrom) { fullFrom -= 1000; fullTo += 1000 }
  var view = { from: fullFrom, to: fullTo }
  var shapes = []

  function layout() {
    var total = AXIS_H + data.lanes.length * LANE_H
    height = Math.min(total, MAX_VIEW_H)
    width = scroller.clientWidth
    scroller.style.height = height + 'px'
    spacer.style.height = (total - height) + 'px'
    var ratio = window.devicePixelRatio || 1
    canvas.width = Math.round(width * ratio)
    canvas.height = Math.round(height * ratio)
    canvas.style.height = height + 'px'
    context.setTransform(ratio, 0, 0, ratio, 0, 0)
    draw()
  }

  function xOf(t) { return LABEL_W + ((t - view.from) / (view.to - view.from)) * (width - LABEL_W - RIGHT_PAD) }
  function tOf(x) { return view.from + ((x - LABEL_W) / (width - LABEL_W - RIGHT_PAD)) * (view.to - view.from) }

  function drawMark(target, mark, x, y, size, color) {
    var half = size / 2
    target.save()
    target.strokeStyle = color
    target.fillStyle = color
    target.lineWidth = 2
    target.beginPath()
    if (mark === 'tick') { target.moveTo(x, y - half); target.lineTo(x, y + half); target.stroke() }
    else if (mark === 'cross') { target.moveTo(x - half, y - half); target.lineTo(x + half, y + half); target.moveTo(x + half, y - half); target.lineTo(x - half, y + half); target.stroke() }
    else if (mark === 'hourglass') { target.lineWidth = 1.5; target.moveTo(x - half, y - half); target.lineTo(x + half, y - half); target.lineTo(x - half, y + half); target.lineTo(x + half, y + half); target.closePath(); target.stroke() }
    else if (mark === 'arrow') { target.moveTo(x - half, y - half); target.lineTo(x + half * 0.6, y); target.lineTo(x - half, y + half); target.closePath(); target.fill() }
    else if (mark === 'square') { target.fillRect(x - half * 0.7, y - half * 0.7, half * 1.4, half * 1.4) }
    else if (mark === 'triangle') { target.moveTo(x, y - half); target.lineTo(x + half, y + half); target.lineTo(x - half, y + half); target.closePath(); target.fill() }
    else if (mark === 'star') { target.moveTo(x - half, y); target.lineTo(x + half, y); target.moveTo(x, y - half); target.lineTo(x, y + half); target.moveTo(x - half * 0.7, y - half * 0.7); target.lineTo(x + half * 0.7, y + half * 0.7); target.moveTo(x + half * 0.7, y - half * 0.7); target.lineTo(x - half * 0.7, y + half * 0.7); target.stroke() }
    else { target.arc(x, y, half * 0.6, 0, Math.PI * 2); target.fill() }
    target.restore()
  }

  var STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5, 1728e5, 6048e5, 2592e6, 31536e6]
  function tickLabel(t, step) {
    var text = new Date(t).toISOString()
    if (step >= 864e5) return text.slice(0, 10)
    if (step >= 6e4) return text.slice(11, 16)
    if (step >= 1e3) return text.slice(11, 19)
    return text.slice(11, 23)
  }

  function drawAxis() {
    context.fillStyle = '#fff'
    context.fillRect(0, 0, width, AXIS_H)
    var span = view.to - view.from
    var step = STEPS[STEPS.length - 1]
    for (var i = 0; i < STEPS.length; i++) if ((STEPS[i] / span) * (width - LABEL_W) >= 90) { step = STEPS[i]; break }
    context.font = '11px system-ui, sans-serif'
    context.textBaseline = 'middle'
    context.strokeStyle = 'rgba(0, 0, 0, 0.07)'
    context.fillStyle = '#444'
    for (var t = Math.ceil(view.from / step) * step; t <= view.to; t += step) {
      var x = Math.round(xOf(t)) + 0.5
      context.beginPath(); context.moveTo(x, AXIS_H - 6); context.lineTo(x, height); context.stroke()
      context.fillText(tickLabel(t, step), x + 3, AXIS_H / 2)
    }
    context.fillStyle = '#444'
    context.fillRect(0, 0, LABEL_W, AXIS_H)
    context.fillStyle = '#fff'
    context.fillText('change source / time (UTC)', 8, AXIS_H / 2)
    context.fillStyle = '#888'
    context.fillRect(LABEL_W, AXIS_H - 1, width - LABEL_W, 1)
  }

  function draw() {
    if (width === 0) return
    shapes = []
    context.clearRect(0, 0, width, height)
    var top = scroller.scrollTop
    var first = Math.max(0, Math.floor(top / LANE_H))
    var last = Math.min(data.lanes.length - 1, Math.floor((top + height - AXIS_H) / LANE_H))
    var plotRight = width - RIGHT_PAD
    context.save()
    context.beginPath(); context.rect(0, AXIS_H, width, height - AXIS_H); context.clip()
    for (var lane = first; lane <= last; lane++) {
      var y = AXIS_H + lane * LANE_H - top
      var middle = y + LANE_H / 2
      context.fillStyle = lane % 2 ? '#f6f7f9' : '#fff'
      context.fillRect(0, y, width, LANE_H)
      context.save()
      context.beginPath(); context.rect(LABEL_W, y, plotRight - LABEL_W, LANE_H); context.clip()
      var gaps = laneGaps[lane]
      for (var g = firstEndingFrom(gaps, view.from); g < gaps.length && gaps[g].start <= view.to; g++) {
        var gx0 = xOf(gaps[g].start), gx1 = xOf(gaps[g].end)
        context.fillStyle = GAP_FILL
        context.fillRect(gx0, y + 2, Math.max(1, gx1 - gx0), LANE_H - 4)
        context.strokeStyle = GAP_LINE
        context.setLineDash([4, 3])
        context.strokeRect(gx0 + 0.5, y + 2.5, Math.max(1, gx1 - gx0) - 1, LANE_H - 5)
        context.setLineDash([])
      }
      var bars = laneBars[lane]
      var drawnTo = -Infinity
      for (var b = firstEndingFrom(bars, view.from); b < bars.length && bars[b].start <= view.to; b++) {
        var bar = bars[b]
        var x0 = xOf(bar.start), x1 = xOf(bar.end)
        var barWidth = Math.max(1, x1 - x0)
        var color = masterColor(bar.masterid)
        var mark = markOf[bar.ending]
        // Bars narrower than a pixel that fall on a pixel already drawn add nothing to the picture.
        if (x0 + barWidth > drawnTo + 0.5) {
          context.fillStyle = color
          context.fillRect(x0, middle - BAR_H / 2, barWidth, BAR_H)
          drawMark(context, mark, x1, middle, BAR_H - 2, '#111')
          drawnTo = x0 + barWidth
        }
        shapes.push({ token: bar.token, lane: lane, changesourceid: bar.changesourceid, masterid: bar.masterid, ending: bar.ending, mark: mark, color: color, x: x0, y: middle - BAR_H / 2, width: barWidth, height: BAR_H })
      }
      context.restore()
      context.fillStyle = lane % 2 ? '#eef0f3' : '#f9fafb'
      context.fillRect(0, y, LABEL_W, LANE_H)
      context.fillStyle = '#222'
      context.font = '12px system-ui, sans-serif'
      context.textBaseline = 'middle'
      var info = data.lanes[lane]
      var label = info.changesourceid + '  ' + info.name
      while (label.length > 4 && context.measureText(label).width > LABEL_W - 12) label = label.slice(0, -2)
      if (label !== info.changesourceid + '  ' + info.name) label += '…'
      context.fillText(label, 6, middle)
    }
    context.restore()
    drawAxis()
  }

  function iso(t) { return new Date(t).toISOString() }
  function duration(ms) {
    if (ms < 1000) return Math.round(ms) + ' ms'
    var seconds = Math.floor(ms / 1000), parts = []
    var units = [['d', 86400], ['h', 3600], ['m', 60]]
    for (var i = 0; i < units.length; i++) if (seconds >= units[i][1]) { parts.push(Math.floor(seconds / units[i][1]) + units[i][0]); seconds %= units[i][1] }
    if (seconds > 0 || parts.length === 0) parts.push(seconds + 's')
    return parts.join(' ')
  }

  function describeBar(bar) {
    var lane = data.lanes[bar.lane]
    var lines = [
      lane.changesourceid + ' ' + lane.name,
      'master ' + bar.masterid + ', token ' + bar.token,
      'from ' + iso(bar.from.timestamp) + ' (seq ' + bar.from.seq + ')',
      bar.to === null ? 'to   still held at the end of the range' : 'to   ' + iso(bar.to.timestamp) + ' (seq ' + bar.to.seq + ', ' + bar.to.reason + ')',
    ]
    if (bar.to && bar.to.expiredAt !== undefined) lines.push('lease deadline ' + iso(bar.to.expiredAt))
    if (bar.leaseMs !== undefined) lines.push('lease ' + duration(bar.leaseMs))
    lines.push('duration ' + duration(bar.durationMs) + (bar.to === null ? ' so far' : ''))
    return lines.join('\n')
  }

  function describeGap(gap) {
    var lane = data.lanes[gap.lane]
    return lane.changesourceid + ' ' + lane.name + '\nnobody held it\nfrom ' + iso(gap.start) + '\nto   ' + iso(gap.end) + '\nduration ' + duration(gap.durationMs)
  }

  /** The bar, else the gap, under canvas point (x, y), within a few pixels. */
  function hit(x, y) {
    if (x < LABEL_W || y < AXIS_H) return null
    var lane = Math.floor((y - AXIS_H + scroller.scrollTop) / LANE_H)
    if (lane < 0 || lane >= data.lanes.length) return null
    var t = tOf(x), slack = (3 * (view.to - view.from)) / (width - LABEL_W)
    var bars = laneBars[lane]
    var best = null
    for (var b = firstEndingFrom(bars, t - slack); b < bars.length && bars[b].start <= t + slack; b++) {
      if (best === null || Math.abs((bars[b].start + bars[b].end) / 2 - t) < Math.abs((best.start + best.end) / 2 - t)) best = bars[b]
    }
    if (best) return { text: describeBar(best), bar: best }
    var gaps = laneGaps[lane]
    var g = firstEndingFrom(gaps, t)
    if (g < gaps.length && gaps[g].start <= t) return { text: describeGap(gaps[g]), gap: gaps[g] }
    return null
  }

  function showTooltip(clientX, clientY) {
    var box = canvas.getBoundingClientRect()
    var found = hit(clientX - box.left, clientY - box.top)
    if (!found) { tooltip.style.display = 'none'; return null }
    tooltip.textContent = found.text
    tooltip.style.display = 'block'
    tooltip.style.left = Math.min(clientX + 14, window.innerWidth - tooltip.offsetWidth - 4) + 'px'
    tooltip.style.top = Math.min(clientY + 14, window.innerHeight - tooltip.offsetHeight - 4) + 'px'
    return found
  }

  var pending = false
  function redraw() {
    if (pending) return
    pending = true
    requestAnimationFrame(function () { pending = false; draw() })
  }

  function zoom(factor, atTime) {
    var span = Math.max(1, (view.to - view.from) * factor)
    var at = atTime === undefined ? (view.from + view.to) / 2 : atTime
    var share = (at - view.from) / (view.to - view.from)
    view.from = at - share * span
    view.to = view.from + span
    draw()
  }
  function fit() { view.from = fullFrom; view.to = fullTo; draw() }

  var dragging = null
  canvas.addEventListener('mousedown', function (event) { dragging = { x: event.clientX, from: view.from, to: view.to }; canvas.style.cursor = 'grabbing' })
  window.addEventListener('mouseup', function () { dragging = null; canvas.style.cursor = 'grab' })
  window.addEventListener('mousemove', function (event) {
    if (dragging) {
      var shift = ((event.clientX - dragging.x) / (width - LABEL_W - RIGHT_PAD)) * (dragging.to - dragging.from)
      view.from = dragging.from - shift
      view.to = dragging.to - shift
      redraw()
    }
  })
  canvas.addEventListener('mousemove', function (event) { if (!dragging) showTooltip(event.clientX, event.clientY) })
  canvas.addEventListener('mouseleave', function () { tooltip.style.display = 'none' })
  canvas.addEventListener('wheel', function (event) {
    if (!event.ctrlKey && !event.metaKey) return
    event.preventDefault()
    var box = canvas.getBoundingClientRect()
    zoom(event.deltaY > 0 ? 1.25 : 0.8, tOf(event.clientX - box.left))
  }, { passive: false })
  scroller.addEventListener('scroll', redraw)
  window.addEventListener('resize', layout)
  document.getElementById('zoom-in').addEventListener('click', function () { zoom(0.5) })
  document.getElementById('zoom-out').addEventListener('click', function () { zoom(2) })
  document.getElementById('zoom-fit').addEventListener('click', fit)

  function legendItem(parent, drawSwatch, text) {
    var item = document.createElement('span')
    item.appendChild(drawSwatch())
    item.appendChild(document.createTextNode(text))
    parent.appendChild(item)
  }
  function smallCanvas(paint) {
    var swatch = document.createElement('canvas')
    swatch.width = 18; swatch.height = 14
    paint(swatch.getContext('2d'))
    return swatch
  }
  var legend = document.getElementById('legend')
  data.masters.forEach(function (masterid) {
    legendItem(legend, function () { return smallCanvas(function (c) { c.fillStyle = masterColor(masterid); c.fillRect(1, 2, 16, 10) }) }, 'master ' + masterid)
  })
  data.endings.forEach(function (entry) {
    legendItem(legend, function () { return smallCanvas(function (c) { drawMark(c, entry.mark, 9, 7, 11, '#111') }) }, entry.ending === 'held' ? 'still held (' + entry.count + ')' : entry.ending + ' (' + entry.count + ')')
  })
  legendItem(legend, function () { return smallCanvas(function (c) { c.fillStyle = GAP_FILL; c.fillRect(1, 2, 16, 10); c.strokeStyle = GAP_LINE; c.setLineDash([3, 2]); c.strokeRect(1.5, 2.5, 15, 9) }) }, 'nobody held it (' + data.gaps.length + ')')

  window.claimsTimeline = {
    data: data,
    shapes: function () { return shapes.slice() },
    view: function () { return { from: view.from, to: view.to } },
    zoom: zoom,
    fit: fit,
    /** The tooltip text at a bar's middle, as hovering shows it. */
    hover: function (clientX, clientY) { var found = showTooltip(clientX, clientY); return found ? found.text : null },
  }
  layout()
})()
`

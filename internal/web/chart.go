package web

import (
	"fmt"
	"strings"
	"time"
)

// Charts are SVG drawn on the server: no script, no layout jump (fixed
// viewBox), readable without colour (every value is also printed).

// trendChart is the 30-day line of open findings.
type trendChart struct {
	Width, Height int
	Left, Right   int    // plot area edges, for the grid lines
	Bottom        int    // baseline of the x labels
	Line, Area    string // SVG path data
	Points        []trendDot
	YTicks        []tick
	XTicks        []tick
	Max           int
	Empty         bool
	Summary       string // text alternative
}

type trendDot struct {
	X, Y  float64
	Label string
}

type tick struct {
	Pos   float64
	Label string
}

const (
	chartW, chartH         = 640, 200
	padL, padR, padT, padB = 48, 12, 12, 28
)

func newTrendChart(points []TrendPoint) trendChart {
	c := trendChart{Width: chartW, Height: chartH, Left: padL, Right: chartW - padR, Bottom: chartH - 6}
	if len(points) == 0 {
		c.Empty = true
		c.Summary = "No history yet."
		return c
	}
	for _, p := range points {
		c.Max = max(c.Max, p.Open)
	}
	top := niceCeil(c.Max)
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	x := func(i int) float64 {
		if len(points) == 1 {
			return padL + plotW/2
		}
		return padL + plotW*float64(i)/float64(len(points)-1)
	}
	y := func(v int) float64 { return padT + plotH - plotH*float64(v)/float64(top) }
	var line strings.Builder
	for i, p := range points {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&line, "%s%.1f %.1f ", cmd, x(i), y(p.Open))
		c.Points = append(c.Points, trendDot{X: x(i), Y: y(p.Open), Label: fmt.Sprintf("%s: %d open", p.Day.Format("2 Jan"), p.Open)})
	}
	c.Line = strings.TrimSpace(line.String())
	c.Area = fmt.Sprintf("%s L%.1f %.1f L%.1f %.1f Z", c.Line, x(len(points)-1), y(0), x(0), y(0))
	for i := 0; i <= 4; i++ {
		v := top * i / 4
		c.YTicks = append(c.YTicks, tick{Pos: y(v), Label: fmt.Sprint(v)})
	}
	for i := 0; i < len(points); i += max(1, len(points)/5) {
		c.XTicks = append(c.XTicks, tick{Pos: x(i), Label: points[i].Day.Format("2 Jan")})
	}
	first, last := points[0], points[len(points)-1]
	c.Summary = fmt.Sprintf("Open findings went from %d on %s to %d on %s; highest %d.",
		first.Open, first.Day.Format(time.DateOnly), last.Open, last.Day.Format(time.DateOnly), c.Max)
	return c
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, then to a multiple
// of 4 so the four grid steps are whole numbers.
func niceCeil(v int) int {
	if v <= 4 {
		return 4
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if n := m * p; n >= v {
				return (n + 3) / 4 * 4
			}
		}
	}
}

// severityBars is one horizontal stacked bar of counts per severity.
type severityBars struct {
	Total    int
	Segments []segment
}

type segment struct {
	Severity string
	Count    int
	X, W     float64 // percent of the bar
}

func newSeverityBars(c Counts) severityBars {
	b := severityBars{Total: c.Total()}
	x := 0.0
	for _, s := range Severities {
		n := c.Of(s)
		seg := segment{Severity: s, Count: n}
		if b.Total > 0 {
			seg.X, seg.W = x, 100*float64(n)/float64(b.Total)
			x += seg.W
		}
		b.Segments = append(b.Segments, seg)
	}
	return b
}

package market

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // America/Chicago must resolve on a machine without a zoneinfo database.
)

// Central is ERCOT's market clock, Central Prevailing Time.
var Central = mustLoad("America/Chicago")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// Unreachable: time/tzdata embeds the zone database.
		panic(fmt.Sprintf("market: load %s: %v", name, err))
	}
	return loc
}

// ercotDay describes one delivery date on the local clock.
type ercotDay struct {
	midnight int64 // Unix seconds of local 00:00
	hours    int   // 23, 24 or 25
	special  int   // wall hour skipped (23-hour day) or repeated (25-hour day)
}

// ercotClock converts ERCOT delivery date / hour-ending / interval labels to
// UTC interval starts, caching the per-date DST layout.
type ercotClock struct {
	loc  *time.Location
	days map[string]ercotDay
}

func newErcotClock(loc *time.Location) *ercotClock {
	if loc == nil {
		loc = Central
	}
	return &ercotClock{loc: loc, days: make(map[string]ercotDay)}
}

func (c *ercotClock) day(date string) (ercotDay, error) {
	if d, ok := c.days[date]; ok {
		return d, nil
	}
	y, m, dd, err := parseDeliveryDate(date)
	if err != nil {
		return ercotDay{}, err
	}
	mid := time.Date(y, time.Month(m), dd, 0, 0, 0, 0, c.loc)
	next := time.Date(y, time.Month(m), dd+1, 0, 0, 0, 0, c.loc)
	d := ercotDay{midnight: mid.Unix(), hours: int(next.Sub(mid) / time.Hour), special: -1}
	if next.Sub(mid)%time.Hour != 0 || d.hours < 23 || d.hours > 25 {
		return ercotDay{}, fmt.Errorf("date %s is %s long on the %s clock; only whole-hour DST shifts are supported", date, next.Sub(mid), c.loc)
	}
	if d.hours != 24 {
		for k := 0; k < d.hours; k++ {
			if w := mid.Add(time.Duration(k) * time.Hour).In(c.loc).Hour(); w != k {
				if d.hours == 23 {
					d.special = k // first wall hour that never shows
				} else {
					d.special = w // the wall hour that shows twice
				}
				break
			}
		}
	}
	if len(c.days) > 1_000_000 {
		clear(c.days)
	}
	c.days[date] = d
	return d, nil
}

// start returns the UTC start (Unix seconds) of the interval labelled by
// hour ending he (1–24), interval iv (1–4, or 0 for hourly rows) and the
// repeated-hour flag.
//
// Hour ending he covers wall-clock hour he-1. On the 23-hour spring-forward
// day the missing wall hour is 02:00; files label the hour 01:00–03:00 CDT
// either "2" or "3" (ERCOT has used both), so both map to the second
// elapsed hour. On the 25-hour fall-back day the wall hour 01:00 happens
// twice: the unflagged row is the first (CDT) hour and the row flagged Y is
// the second (CST) one.
func (c *ercotClock) start(date string, he, iv int, repeated bool) (int64, error) {
	d, err := c.day(date)
	if err != nil {
		return 0, err
	}
	w := he - 1
	var elapsed int
	switch d.hours {
	case 24:
		if repeated {
			return 0, errors.New("repeated-hour flag is Y on a day without a repeated hour")
		}
		elapsed = w
	case 23:
		if repeated {
			return 0, errors.New("repeated-hour flag is Y on the spring-forward day, which has no repeated hour")
		}
		// The label of the skipped wall hour (HE 3) and every later one
		// move back an hour; HE 2 and HE 3 both name 01:00 CST–03:00 CDT.
		elapsed = w
		if w >= d.special {
			elapsed = w - 1
		}
	case 25:
		switch {
		case w < d.special:
			elapsed = w
		case w == d.special && repeated:
			elapsed = w + 1
		case w == d.special:
			elapsed = w
		default:
			elapsed = w + 1
		}
		if repeated && w != d.special {
			return 0, fmt.Errorf("repeated-hour flag is Y on hour ending %d, but only hour ending %d repeats on %s", he, d.special+1, date)
		}
	}
	t := d.midnight + int64(elapsed)*3600
	if iv > 0 {
		t += int64(iv-1) * 900
	}
	return t, nil
}

// parseDeliveryDate accepts ERCOT's MM/DD/YYYY and ISO YYYY-MM-DD.
func parseDeliveryDate(s string) (y, m, d int, err error) {
	var parts []string
	iso := false
	switch {
	case strings.Count(s, "/") == 2:
		parts = strings.Split(s, "/")
	case strings.Count(s, "-") == 2:
		parts = strings.Split(s, "-")
		iso = true
	default:
		return 0, 0, 0, errors.New("want a date as MM/DD/YYYY or YYYY-MM-DD")
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return 0, 0, 0, errors.New("want a date as MM/DD/YYYY or YYYY-MM-DD")
		}
		n[i] = v
	}
	if iso {
		y, m, d = n[0], n[1], n[2]
	} else {
		m, d, y = n[0], n[1], n[2]
	}
	if y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, errors.New("not a valid calendar date")
	}
	return y, m, d, nil
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseHourEnding accepts "1".."24", "01" and "01:00".."24:00".
func parseHourEnding(s string) (int, error) {
	s = strings.TrimSuffix(s, ":00")
	h, err := strconv.Atoi(s)
	if err != nil || h < 1 || h > 24 {
		return 0, errors.New("want an hour ending from 1 to 24")
	}
	return h, nil
}

// parseFlag reads a repeated-hour / DST flag.
func parseFlag(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "y", "yes", "true", "1":
		return true, nil
	case "n", "no", "false", "0", "":
		return false, nil
	}
	return false, errors.New("want Y or N")
}

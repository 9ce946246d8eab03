package controller

import (
	"testing"

	"github.com/jouleworks/joule/dispatch"
	"github.com/jouleworks/joule/site"
)

var reasonSite = &site.Site{Tiers: []site.Tier{
	{Name: "s19xp-braiins", Model: "Antminer S19 XP", Count: 40, Profiles: []site.Profile{{Name: "stock", THs: 140, W: 3010}}},
	{Name: "m50s-whatsminer", Model: "WhatsMiner M50S", Count: 4, Profiles: []site.Profile{{Name: "stock", THs: 126, W: 3276}}},
	{Name: "s21-luxos", Model: "Antminer S21", Count: 10, Profiles: []site.Profile{{Name: "stock", THs: 200, W: 3500}, {Name: "eco", THs: 180, W: 2800}}},
}}

var reasonCases = []struct {
	in   dispatch.Reason
	want string
}{
	{dispatch.Reason{Subject: "s19xp-braiins", Code: dispatch.CodeRun, Detail: "40 on (mostly stock): expected $22.90/MWh below breakeven $107.51/MWh"},
		"S19 XP (braiins): expected $22.90/MWh below breakeven $107.51/MWh → all 40 hashing"},
	{dispatch.Reason{Subject: "s21-luxos", Code: dispatch.CodeRun, Detail: "7 on (mostly eco): expected $90.00/MWh below breakeven $135.14/MWh"},
		"S21 (luxos): expected $90.00/MWh below breakeven $135.14/MWh → 7 of 10 hashing (mostly at eco)"},
	{dispatch.Reason{Subject: "s19xp-braiins", Code: dispatch.CodeSleep, Detail: "expected $150.00/MWh above breakeven $107.51/MWh"},
		"S19 XP (braiins): expected $150.00/MWh above breakeven $107.51/MWh → all 40 asleep"},
	{dispatch.Reason{Subject: "m50s-whatsminer", Code: dispatch.CodeSleep, Detail: "expected $150.00/MWh above breakeven $88.84/MWh"},
		"M50S (whatsminer): expected $150.00/MWh above breakeven $88.84/MWh → all 4 asleep"},
	{dispatch.Reason{Subject: "site", Code: "forecast", Detail: "expected price $22.90/MWh"}, "Forecast: expected price $22.90/MWh"},
	{dispatch.Reason{Subject: "s21-luxos", Code: dispatch.CodeMinOn, Detail: "3 miners on for less than 30m0s"},
		"S21 (luxos): 3 miners on for less than 30m0s (min on)"},
	{dispatch.Reason{Subject: "h100", Code: dispatch.CodeBatchPaused, Detail: "fine-tune#1 paused: power at $3000/MWh costs more than it pays"},
		"h100: fine-tune#1 paused: power at $3000/MWh costs more than it pays (batch paused)"},
	// A detail in an unexpected shape is kept whole.
	{dispatch.Reason{Subject: "s21-luxos", Code: dispatch.CodeRun, Detail: "odd"}, "S21 (luxos): odd (below breakeven)"},
}

func TestOperatorReason(t *testing.T) {
	for _, c := range reasonCases {
		if got := operatorReason(reasonSite, c.in); got != c.want {
			t.Errorf("operatorReason(%+v)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

package emulator

import (
	"strings"
	"testing"
)

var mixCases = []struct {
	spec  string
	count int
	want  map[string]int // key:firmware → miners
	err   string         // substring of the error
}{
	{spec: "s19jpro:stock=40,s21:luxos=30,m50s:whatsminer=20,s19xp:braiins=10", count: 10,
		want: map[string]int{"s19jpro:stock": 4, "s21:luxos": 3, "m50s:whatsminer": 2, "s19xp:braiins": 1}},
	{spec: "s19jpro:stock=40%,s21:luxos=60%", count: 5, want: map[string]int{"s19jpro:stock": 2, "s21:luxos": 3}},
	{spec: "s21=3,m60=2", count: 0, want: map[string]int{"s21:stock": 3, "m60:whatsminer": 2}},
	{spec: "s21:braiins", count: 3, want: map[string]int{"s21:braiins": 3}},
	{spec: "s21:luxos=1,s19xp:luxos=1,m50s=1", count: 4, want: map[string]int{"s21:luxos": 2, "s19xp:luxos": 1, "m50s:whatsminer": 1}},
	{spec: "s19jpro:stock=40,s21:luxs=30", err: `mix token 2 "s21:luxs=30": unknown firmware "luxs"`},
	{spec: "s99=1", err: `mix token 1 "s99=1": unknown model "s99"`},
	{spec: "m50s:luxos=1", err: `mix token 1 "m50s:luxos=1": WhatsMiner M50S cannot run luxos firmware`},
	{spec: "s21=ten", err: `mix token 1 "s21=ten": amount "ten"`},
	{spec: "s21=50%,m50s=50", err: `mix token 2 "m50s=50": mixes percentages`},
	{spec: "s21=50%,m50s=40%", err: "percentages add up to 90"},
	{spec: "s21=1,,m50s=1", err: "mix token 2"},
	{spec: "s21=0", err: "add up to 0"},
	{spec: "", err: "empty"},
}

func TestParseMix(t *testing.T) {
	for _, tc := range mixCases {
		mix, err := ParseMix(tc.spec)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseMix(%q) error %v, want containing %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseMix(%q): %v", tc.spec, err)
			continue
		}
		count := tc.count
		if count == 0 {
			count = mix.Size()
		}
		got := map[string]int{}
		entries, err := mix.Expand(count)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			got[e.Spec.Key+":"+e.Firmware.String()]++
		}
		if len(got) != len(tc.want) {
			t.Errorf("ParseMix(%q) × %d = %v, want %v", tc.spec, count, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("ParseMix(%q) × %d: %s = %d, want %d", tc.spec, count, k, got[k], v)
			}
		}
	}
}

func TestNewFleetConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Count: 0},
		{Count: 5, Mix: "s21=1,bogus=2"},
		{Count: 5, Speed: -1},
		{Count: 5, Ambient: 99},
		{Count: maxMiners + 1},
		{Count: 5, Ports: Ports{HTTP: 70000}},
	} {
		if _, err := NewFleet(cfg); err == nil {
			t.Errorf("NewFleet(%+v) succeeded, want an error", cfg)
		}
	}
}

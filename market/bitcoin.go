package market

import (
	"time"
)

// Bitcoin consensus and calendar facts used by the hashprice model.
const (
	// HalvingInterval is the number of blocks between subsidy halvings.
	HalvingInterval = 210_000
	// BlockInterval is the target time between blocks.
	BlockInterval = 10 * time.Minute
	// initialSubsidySats is the block subsidy before the first halving,
	// 50 BTC, in satoshis.
	initialSubsidySats = 50 * satsPerBTC
	satsPerBTC         = 100_000_000
)

// heightAnchor pins a block height to its timestamp.
type heightAnchor struct {
	height int64
	at     time.Time
}

// heightAnchors are the genesis block and the halving blocks, with their
// block header timestamps (UTC) as recorded in the chain. Heights between
// anchors are interpolated linearly; after the last one the chain is
// extrapolated at one block per BlockInterval.
var heightAnchors = []heightAnchor{
	{0, time.Date(2009, 1, 3, 18, 15, 5, 0, time.UTC)},
	{210_000, time.Date(2012, 11, 28, 15, 24, 38, 0, time.UTC)},
	{420_000, time.Date(2016, 7, 9, 16, 46, 13, 0, time.UTC)},
	{630_000, time.Date(2020, 5, 11, 19, 23, 43, 0, time.UTC)},
	{840_000, time.Date(2024, 4, 20, 0, 9, 27, 0, time.UTC)},
}

// SubsidyAtHeight returns the block subsidy in BTC of the block at height h:
// 50 BTC halved (in whole satoshis, as consensus does) every 210,000
// blocks, so 3.125 BTC from block 840,000. Negative heights return 0.
func SubsidyAtHeight(h int64) float64 {
	if h < 0 {
		return 0
	}
	halvings := h / HalvingInterval
	if halvings >= 64 {
		return 0
	}
	return float64(int64(initialSubsidySats)>>halvings) / satsPerBTC
}

// HeightAt estimates the height of the block mined at t from the anchors
// (genesis and halving blocks): linear between anchors, ten-minute blocks
// after block 840,000 (2024-04-20 00:09:27 UTC). Before genesis it is -1.
func HeightAt(t time.Time) int64 {
	first := heightAnchors[0]
	if t.Before(first.at) {
		return -1
	}
	for i := 1; i < len(heightAnchors); i++ {
		a, b := heightAnchors[i-1], heightAnchors[i]
		if t.Before(b.at) {
			frac := float64(t.Sub(a.at)) / float64(b.at.Sub(a.at))
			return a.height + int64(frac*float64(b.height-a.height))
		}
	}
	last := heightAnchors[len(heightAnchors)-1]
	return last.height + int64(t.Sub(last.at)/BlockInterval)
}

// SubsidyAt returns the block subsidy in BTC at time t, from HeightAt.
func SubsidyAt(t time.Time) float64 { return SubsidyAtHeight(HeightAt(t)) }

// Hashprice returns the expected revenue of one TH/s for one day, in USD:
//
//	86400 · 10¹² / (difficulty · 2³²) · (subsidy + fees) · price
//
// A hash of difficulty D takes D·2³² hashes on average, so a TH/s finds
// 86400·10¹²/(D·2³²) blocks a day, each paying subsidy plus fees (BTC).
// Non-positive difficulty returns 0.
func Hashprice(difficulty, subsidyBTC, feesBTC, priceUSD float64) float64 {
	if difficulty <= 0 {
		return 0
	}
	return 86400e12 / (difficulty * 4294967296) * (subsidyBTC + feesBTC) * priceUSD
}

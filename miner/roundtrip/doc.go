// Package roundtrip runs the miner client against the fleet emulator: every
// dialect and command over real loopback sockets, the wake and sleep timings
// read back through client telemetry, and the 10,000-miner sweep benchmark.
// It has no non-test code; it is a separate package so that the miner
// package's own tests do not depend on the emulator.
package roundtrip

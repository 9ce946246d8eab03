// Package model serves chat completions with per-token top-k logprobs and
// seeded sampling, and validates a served completion by re-executing it.
//
// A Backend answers one question: given a conversation and the tokens
// generated so far, what are the k most likely next tokens and their
// logprobs (Backend.Next). Everything else is built on that one primitive
// and is shared by every backend:
//
//   - Generate runs a Request step by step, choosing each token with Choose,
//     a pure function of (request seed, step, temperature, candidates), and
//     streams tokens to a callback (the gateway turns them into SSE chunks).
//   - Validate replays a Completion with the executor's tokens enforced
//     (teacher forcing), compares the executor's top-k logprobs with the
//     validator's own within a tolerance (0 for the integer reference model)
//     and checks that each token is the seeded choice — catching a cheaper
//     model substituted for the claimed one and pre-filled output.
//   - SPRT and Tracker turn a host's validation outcomes into a conviction
//     with a sequential probability ratio test, in integer state a ledger
//     can store, with a validation rate that falls as reputation grows.
//
// Backends: Reference is a built-in deterministic model ("joule-ref-1":
// seeded int8 weights, byte-level tokenizer, integer arithmetic throughout,
// so every machine produces identical logprobs). Remote drives any
// OpenAI-compatible server that returns logprobs (vLLM, llama.cpp server)
// over its /v1/completions endpoint.
//
// Logprobs travel as LP, a fixed-point base-2 log-probability, so the
// sampling rule and the comparison are integer operations; LP.Nats converts
// to the natural-log floats of the OpenAI wire format at the edge.
package model

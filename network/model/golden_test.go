package model

// goldenRef is joule-ref-1's answer to "hi" (seed 1, T = 1, 24 tokens).
const goldenRef = "jse,sfkmuyu uy  hoi wssu"

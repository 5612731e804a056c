"""Real-browser tests of the web widget (Chromium + Playwright)."""

#!/usr/bin/env node
// Committed launcher: npm links bins before `prepare` builds dist/, so the link must point at
// a file that exists (and is executable) in a fresh clone.
require('../dist/cli/main.js');

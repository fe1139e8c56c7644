#!/usr/bin/env bash
# Rebuilds web/static/editor.js (committed) from src/editor.js and the
# exact npm versions pinned in package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"
npm ci
npx esbuild src/editor.js --bundle --minify --format=iife --target=es2020 --legal-comments=eof --outfile=../static/editor.js

#!/usr/bin/env bash
# Load benchmarks of `vigil serve` (docs/server.md). Numbers depend on the
# machine; compare runs on one machine.
#   webhook intake: Distribution deliveries/s into SQLite, half of them
#                   duplicates (dedup), each new one enqueueing a scan
#   re-evaluation:  stored images re-matched per second from their stored
#                   layers, 300 packages each, SQLite and PostgreSQL
# VIGIL_BENCH_IMAGES sets the number of seeded images (default 1000).
set -euo pipefail
cd "$(dirname "$0")/../.."
go test ./internal/server/ -run XXX -bench 'WebhookIntake' -benchtime 3000x
go test ./internal/server/ -run XXX -bench 'Reevaluate' -benchtime 1x -timeout 60m

#!/usr/bin/env bash
# Load benchmarks of `vigil serve` (docs/server.md "Performance"). Numbers
# depend on the machine and its load; compare runs on one machine.
#   webhook intake: Distribution deliveries over loopback HTTP into SQLite,
#                   every event delivered twice (dedup), each new one
#                   enqueueing a unique scan job
#   re-evaluation:  stored images re-matched per second from their stored
#                   layers, 300 packages each, SQLite and PostgreSQL
#   advisory:       a refresh adding an advisory → every affected image
#                   re-evaluated by the queue's workers
# VIGIL_BENCH_IMAGES sets the number of seeded images (default 1000; the
# targets are for 10000). bench/serve/rss.sh and bench/serve/push.sh run a
# real `vigil serve`.
set -euo pipefail
cd "$(dirname "$0")/../.."
go test ./internal/server/ -run XXX -bench 'WebhookIntake' -benchtime 5000x
go test ./internal/server/ -run XXX -bench 'Reevaluate|AdvisoryReevaluation' -benchtime 1x -timeout 60m

#!/usr/bin/env bash
# bankdesk beside django-helpdesk: the same create and list workload against both, in one run.
#
#   benchmarks/peer_helpdesk.sh [--db sqlite|postgres|both] [--peer DIR]
#
# For each database it starts both systems on fresh data, side by side:
#   - the peer (the PyPI django-helpdesk in the minimal project at --peer, by default
#     ../shared/peers/django-helpdesk from the project's root) the way its bench.sh serves it:
#     migrate, bootstrap.py (superuser, DRF token, one queue), gunicorn with 2 sync workers;
#   - bankdesk the way `bankdesk up` serves it (uvicorn; --no-worker --no-smtp, a demo bank of
#     20 customers and no cases, limits raised so none answers 429), driven as the supervisor;
# then drives both with the one client benchmarks/http_load.py, same clients, same counts:
#   (a) create: N_CREATE cases/tickets from CONC clients at once (the same title and text);
#   (b) list:   the table topped up to LIST_ROWS rows (peer: preload.py; bankdesk: `bankdesk demo
#       --cases`), then CONC clients fetch the newest 25 for LIST_S seconds. bankdesk:
#       /api/v1/cases?limit=25 (newest first). The peer's API cannot sort, so it gets
#       ?page=last: its 25 highest ids, which are its newest (it reads the whole table for any
#       page, so the page asked costs the same);
#   (c) with LARGE_ROWS set (e.g. 100000), (b) again at that many rows, for LARGE_LIST_S seconds.
# On PostgreSQL both use the server at PGHOST:PGPORT (127.0.0.1:5432, user postgres, trust) in
# databases of their own (BD_PGDATABASE, PEER_PGDATABASE) created fresh and dropped at the end,
# with VACUUM ANALYZE before every list phase (as the peer's bench.sh does after its preload).
#
# Prints a human line and one `JSON {...}` line per phase (also kept in $OUT_DIR/results.txt),
# then the bankdesk/peer ratio table: create cases/s, list pages/s, p50/p99 of each, and the
# server CPU per request (steadier than rates on a shared machine). Both servers stay up for the
# whole run and the phases alternate between them, so a neighbour's burst hits both alike.
#
# Needs: bankdesk's Python (BANKDESK_PYTHON, default python3, e.g. the project's venv active),
# curl, psql for PostgreSQL. The peer's venv is made on first use in PEER_VENV (default
# ${XDG_CACHE_HOME:-~/.cache}/bankdesk-peer-venv) with the versions the peer's README gives.
#
# Knobs (environment): N_CREATE=2000 CONC=16 LIST_S=20 LIST_ROWS=2000 LARGE_ROWS=0
#   LARGE_LIST_S=60 PEER_WORKERS=2 BD_PROCESSES=2 (used only if `bankdesk up` has --processes)
#   PGHOST=127.0.0.1 PGPORT=5432 BD_PGDATABASE=bd_peer_bench PEER_PGDATABASE=djh_peer_bench
#   OUT_DIR=<new temporary folder> PEER_DIR PEER_VENV BANKDESK_PYTHON
# The defaults take about 4 minutes on SQLite and 5 on PostgreSQL (2 cores); LARGE_ROWS=100000
# adds the preloads (minutes) and a list phase in which one peer request takes tens of seconds.
# "Server CPU" is the serving processes' own (gunicorn master and workers; `bankdesk up` and its
# children): with SQLite that includes the database work, with PostgreSQL it does not.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DBS=both
PEER_DIR="${PEER_DIR:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --db) DBS="$2"; shift 2 ;;
    --peer) PEER_DIR="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$DBS" in
  sqlite|postgres) ;;
  both) DBS="sqlite postgres" ;;
  *) echo "--db must be sqlite, postgres or both" >&2; exit 2 ;;
esac

if [ -z "$PEER_DIR" ]; then
  PEER_DIR="$ROOT/../shared/peers/django-helpdesk"
  if [ ! -d "$PEER_DIR" ]; then
    # A linked worktree lies elsewhere: try beside the main checkout too.
    common="$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)"
    [ -n "$common" ] && PEER_DIR="$(dirname "$common")/../shared/peers/django-helpdesk"
  fi
fi
[ -f "$PEER_DIR/bootstrap.py" ] || { echo "no peer at $PEER_DIR (pass --peer DIR)" >&2; exit 2; }
PEER_DIR="$(cd "$PEER_DIR" && pwd)"

N_CREATE="${N_CREATE:-2000}"; CONC="${CONC:-16}"; LIST_S="${LIST_S:-20}"
LIST_ROWS="${LIST_ROWS:-2000}"; LARGE_ROWS="${LARGE_ROWS:-0}"; LARGE_LIST_S="${LARGE_LIST_S:-60}"
PEER_WORKERS="${PEER_WORKERS:-2}"; BD_PROCESSES="${BD_PROCESSES:-2}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
BD_PGDATABASE="${BD_PGDATABASE:-bd_peer_bench}"; PEER_PGDATABASE="${PEER_PGDATABASE:-djh_peer_bench}"
BD_PY="${BANKDESK_PYTHON:-python3}"
PEER_VENV="${PEER_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/bankdesk-peer-venv}"
OUT_DIR="${OUT_DIR:-$(mktemp -d -t bankdesk-peer-bench.XXXXXX)}"
mkdir -p "$OUT_DIR"
RESULTS="$OUT_DIR/results.txt"
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1  # the peer's folder may be read-only
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"  # no "does not exist, skipping"
LOAD=("$BD_PY" "$ROOT/benchmarks/http_load.py")
BODY_TITLE='Card blocked after travel #{i}'
BODY_TEXT='Customer reports card declined abroad (load {i}).'

if [ ! -x "$PEER_VENV/bin/gunicorn" ]; then
  echo "making the peer's venv in $PEER_VENV"
  python3.11 -m venv "$PEER_VENV"
  "$PEER_VENV/bin/pip" install -q django-helpdesk==2.6.1 Django==5.2.19 \
    djangorestframework==3.18.3 gunicorn==27.0.1 "psycopg[binary]==3.3.9"
fi

PEER_PID=""; BD_PID=""; DATABASES_MADE=()
stop_pid() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}
stop_servers() {
  stop_pid "$PEER_PID"; PEER_PID=""
  stop_pid "$BD_PID"; BD_PID=""
}
drop_databases() {
  for name in "${DATABASES_MADE[@]}"; do
    psql -qAt -d postgres -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null || true
  done
  DATABASES_MADE=()
}
trap 'stop_servers; drop_databases' EXIT

free_port() {
  "$BD_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_for() {  # URL, expected status, pid, log
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = "$2" ] && return 0
    kill -0 "$3" 2>/dev/null || { echo "server died:" >&2; tail -30 "$4" >&2; exit 1; }
    sleep 0.5
  done
  echo "server did not come up at $1" >&2; tail -30 "$4" >&2; exit 1
}
fresh_database() {
  psql -qAt -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
  DATABASES_MADE+=("$1")
}

peer() { (cd "$PEER_DIR" && "$PEER_VENV/bin/python" "$@"); }
bd() { "$BD_PY" -m bankdesk.config.cli "$@"; }

start_peer() {  # database
  export DJH_DATA="$OUT_DIR/$1/peer"; mkdir -p "$DJH_DATA"
  if [ "$1" = postgres ]; then
    export DJH_DB=postgres PGDATABASE="$PEER_PGDATABASE"; fresh_database "$PEER_PGDATABASE"
  else
    export DJH_DB=sqlite; unset PGDATABASE
  fi
  peer manage.py migrate -v 0
  PEER_BOOT="$(peer bootstrap.py)"
  PEER_TOKEN="$(echo "$PEER_BOOT" | "$BD_PY" -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
  PEER_QUEUE="$(echo "$PEER_BOOT" | "$BD_PY" -c 'import json,sys; print(json.load(sys.stdin)["queue"])')"
  PEER_URL="http://127.0.0.1:$(free_port)"
  (cd "$PEER_DIR" && exec "$PEER_VENV/bin/gunicorn" peer_project.wsgi:application \
    --workers "$PEER_WORKERS" --bind "${PEER_URL#http://}" --timeout 900 --no-control-socket \
    --error-logfile "$DJH_DATA/gunicorn.log") >"$DJH_DATA/stdout.log" 2>&1 &
  PEER_PID=$!
  wait_for "$PEER_URL/api/tickets/" 401 "$PEER_PID" "$DJH_DATA/gunicorn.log"
}

start_bankdesk() {  # database
  export BANKDESK_HOME="$OUT_DIR/$1/bankdesk-home"; mkdir -p "$BANKDESK_HOME"
  if [ "$1" = postgres ]; then
    fresh_database "$BD_PGDATABASE"
    export DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$BD_PGDATABASE"
  else
    unset DATABASE_URL
  fi
  export BANKDESK_RATE_LIMIT_TOKEN=10000000/60 BANKDESK_RATE_LIMIT_ADDRESS=10000000/60
  local processes=()
  if bd up --help | grep -q -- '--processes'; then
    processes=(--processes "$BD_PROCESSES"); BD_SERVING="$BD_PROCESSES processes"
  else
    BD_SERVING="1 process (bankdesk up has no --processes)"
  fi
  BD_URL="http://127.0.0.1:$(free_port)"
  "$BD_PY" -m bankdesk.config.cli up --no-worker --no-smtp --port "${BD_URL##*:}" --demo-customers 20 --demo-cases 0 \
    "${processes[@]}" >"$BANKDESK_HOME/up.log" 2>&1 &
  BD_PID=$!
  wait_for "$BD_URL/healthz" 200 "$BD_PID" "$BANKDESK_HOME/up.log"
  BD_TOKEN="$(bd token create --user supervisor --name peer-bench)"
}

peer_rows() { peer bootstrap.py | "$BD_PY" -c 'import json,sys; print(json.load(sys.stdin)["tickets"])'; }
bd_rows() {
  bd shell --no-imports -c 'from bankdesk.tickets.models import Case; print(Case.objects.count())' \
    | tail -n 1
}

top_up() {  # rows wanted
  local have
  have="$(peer_rows)"
  if [ "$have" -lt "$1" ]; then peer preload.py --total "$1"; fi
  have="$(bd_rows)"
  if [ "$have" -lt "$1" ]; then
    local add=$(($1 - have))
    bd demo --customers $(((add + 9) / 10)) --cases "$add" --seed 7 --no-progress
  fi
  if [ "$DJH_DB" = postgres ]; then
    psql -qAt -d "$PEER_PGDATABASE" -c 'VACUUM ANALYZE'
    psql -qAt -d "$BD_PGDATABASE" -c 'VACUUM ANALYZE'
  fi
  PEER_ROWS="$(peer_rows)"; BD_ROWS="$(bd_rows)"
  echo "rows: peer $PEER_ROWS tickets, bankdesk $BD_ROWS cases"
}

list_phase() {  # database seconds rows-asked
  "${LOAD[@]}" list --url "$PEER_URL/api/tickets/?page=last" --auth "Token $PEER_TOKEN" \
    --clients "$CONC" --seconds "$2" --page-key results --server-pid "$PEER_PID" \
    --tag system=django-helpdesk --tag database="$1" --tag rows="$3" --tag table_rows="$PEER_ROWS" | tee -a "$RESULTS"
  "${LOAD[@]}" list --url "$BD_URL/api/v1/cases?limit=25" --auth "Bearer $BD_TOKEN" \
    --clients "$CONC" --seconds "$2" --page-key items --server-pid "$BD_PID" \
    --tag system=bankdesk --tag database="$1" --tag rows="$3" --tag table_rows="$BD_ROWS" | tee -a "$RESULTS"
}

run_database() {  # sqlite|postgres
  local db="$1"
  echo "== $db: starting the peer and bankdesk on fresh data"
  start_peer "$db"
  start_bankdesk "$db"
  {
    echo "# $db, $(date -u +%FT%TZ), cpus $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# peer: django-helpdesk $("$PEER_VENV/bin/python" -c 'from importlib.metadata import version as v; print(v("django-helpdesk"), "Django", v("django"), "gunicorn", v("gunicorn"))'), $PEER_WORKERS sync workers, $PEER_URL"
    echo "# bankdesk: $(git -C "$ROOT" rev-parse --short HEAD), uvicorn, $BD_SERVING, $BD_URL"
    if [ "$db" = postgres ]; then
      echo "# postgres $(psql -qAt -d postgres -c 'show server_version') at $PGHOST:$PGPORT"
    fi
    echo "## (a) create $N_CREATE, $CONC clients"
  } | tee -a "$RESULTS"
  "${LOAD[@]}" create --url "$PEER_URL/api/tickets/" --auth "Token $PEER_TOKEN" \
    --clients "$CONC" --n "$N_CREATE" --server-pid "$PEER_PID" \
    --body "{\"queue\": $PEER_QUEUE, \"title\": \"$BODY_TITLE\", \"description\": \"$BODY_TEXT\", \"submitter_email\": \"customer{i%5000}@example.invalid\", \"priority\": {i%5+1}}" \
    --tag system=django-helpdesk --tag database="$db" | tee -a "$RESULTS"
  "${LOAD[@]}" create --url "$BD_URL/api/v1/cases" --auth "Bearer $BD_TOKEN" \
    --clients "$CONC" --n "$N_CREATE" --server-pid "$BD_PID" \
    --body "{\"subject\": \"$BODY_TITLE\", \"channel\": \"phone\", \"language\": \"en\", \"text\": \"$BODY_TEXT\"}" \
    --tag system=bankdesk --tag database="$db" | tee -a "$RESULTS"
  echo "## (b) newest 25 at $LIST_ROWS rows, $CONC clients for ${LIST_S}s" | tee -a "$RESULTS"
  top_up "$LIST_ROWS"
  list_phase "$db" "$LIST_S" "$LIST_ROWS"
  if [ "$LARGE_ROWS" -gt 0 ]; then
    echo "## (c) newest 25 at $LARGE_ROWS rows, $CONC clients for ${LARGE_LIST_S}s" | tee -a "$RESULTS"
    top_up "$LARGE_ROWS"
    list_phase "$db" "$LARGE_LIST_S" "$LARGE_ROWS"
  fi
  stop_servers
  drop_databases
}

for db in $DBS; do run_database "$db"; done
echo "== bankdesk / django-helpdesk"
"${LOAD[@]}" compare "$RESULTS" | tee -a "$RESULTS"
echo "results: $RESULTS"

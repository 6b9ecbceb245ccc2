# Shared by scripts/run, scripts/test and .ci/run: installs what Hallway needs to build and test on
# a fresh Debian/Ubuntu machine (when it is missing), and starts PostgreSQL for the tests.

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

apt_install() {
  echo "installing Debian packages: $*" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# libpq (PostgreSQL client) and OpenSSL headers to link against, and a C compiler for bundled SQLite.
ensure_build_deps() {
  command -v cargo >/dev/null || { echo "Rust is required: https://rustup.rs" >&2; return 1; }
  local missing=()
  pkg-config --exists libpq 2>/dev/null || [ -e /usr/lib/x86_64-linux-gnu/libpq.so ] || missing+=(libpq-dev)
  pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  command -v cc >/dev/null || missing+=(gcc)
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

# What the tests use besides the build: pdftoppm renders badge sheets so a QR decoder can read them,
# and pdftotext reads their names back; Debian's Python with vobject and icalendar parses the vCard
# and iCalendar exports.
ensure_test_deps() {
  { command -v pdftoppm && command -v pdftotext; } >/dev/null || apt_install poppler-utils
  /usr/bin/python3 -c 'import vobject, icalendar' 2>/dev/null || apt_install python3-vobject python3-icalendar
}

# The browser check's: Debian's Chromium, and Node.js with npm to install playwright-core.
ensure_browser_deps() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

pg_url() {
  echo "${HALLWAY_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
}

pg_ready() {
  if command -v pg_isready >/dev/null; then pg_isready -q -h 127.0.0.1 -p 5432; else
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; fi
}

# A PostgreSQL the tests can reach: started if installed but stopped, installed if missing.
ensure_postgres() {
  if [ -n "${HALLWAY_TEST_POSTGRES_URL:-}" ] || pg_ready; then return 0; fi
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
    local hba
    hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -n 1)
    # The tests connect as `postgres` over loopback without a password (a development machine).
    as_root sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null ||
    as_root pg_ctlcluster "$version" main start
  for _ in $(seq 1 30); do pg_ready && return 0; sleep 1; done
  echo "PostgreSQL did not start" >&2
  return 1
}

# What scripts/clients-check needs from Debian: Python with venv (for the pinned pip tools) and
# Node.js with npm (for the pinned npm tools), and psql to make its PostgreSQL database.
ensure_client_deps() {
  local missing=()
  /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  command -v psql >/dev/null || missing+=(postgresql-client)
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

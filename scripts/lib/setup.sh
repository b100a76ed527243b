# Shared by scripts/run and scripts/test: install and start what the project needs on Debian 12.
# Each function does nothing when its part is already there.

step() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
    done
}

apt_install() {
    local missing
    missing=$(missing_packages "$@")
    [ -z "$missing" ] && return 0
    step "installing: $missing"
    as_root apt-get update -qq
    # shellcheck disable=SC2086
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
}

ensure_build_packages() {
    # libmariadb-dev-compat provides the mysqlclient pkg-config name diesel's driver looks for.
    apt_install build-essential pkg-config ca-certificates curl \
        libmariadb-dev libmariadb-dev-compat libpq-dev
}

# The partition test (crates/e2e/tests/cluster.rs) puts a coreapp in a network namespace with a
# veth pair: iproute2's `ip`. It needs root or CAP_NET_ADMIN; WA_TEST_NO_NETNS=1 skips it.
ensure_network_tools() {
    apt_install iproute2
}

ensure_rust() {
    if command -v cargo >/dev/null 2>&1; then return 0; fi
    if [ -x "$HOME/.cargo/bin/cargo" ]; then export PATH="$HOME/.cargo/bin:$PATH"; return 0; fi
    step "installing the Rust toolchain (rustup)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
    export PATH="$HOME/.cargo/bin:$PATH"
}

mariadb_up() { mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 ping >/dev/null 2>&1 || \
    (echo > /dev/tcp/127.0.0.1/3306) >/dev/null 2>&1; }
postgres_up() { (echo > /dev/tcp/127.0.0.1/5432) >/dev/null 2>&1; }

wait_for() {
    local what=$1 check=$2 i
    for i in $(seq 1 60); do
        if $check; then return 0; fi
        sleep 1
    done
    echo "$what did not come up" >&2
    return 1
}

ensure_mariadb() {
    if [ -z "${WA_TEST_MYSQL_URL:-}" ]; then
        if ! mariadb_up; then
            apt_install mariadb-server mariadb-client
            step "starting MariaDB"
            as_root service mariadb start >/dev/null 2>&1 || \
                as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
            wait_for MariaDB mariadb_up
        fi
        # The test account; root talks to the server through its socket (unix_socket auth).
        as_root mariadb -uroot -e "
            CREATE USER IF NOT EXISTS 'wa_test'@'localhost' IDENTIFIED BY 'wa_test';
            CREATE USER IF NOT EXISTS 'wa_test'@'127.0.0.1' IDENTIFIED BY 'wa_test';
            CREATE USER IF NOT EXISTS 'wa_test'@'%' IDENTIFIED BY 'wa_test';
            GRANT ALL PRIVILEGES ON *.* TO 'wa_test'@'localhost';
            GRANT ALL PRIVILEGES ON *.* TO 'wa_test'@'127.0.0.1';
            GRANT ALL PRIVILEGES ON *.* TO 'wa_test'@'%';" 2>/dev/null || \
        mariadb --protocol=tcp -h127.0.0.1 -uroot -e "
            CREATE USER IF NOT EXISTS 'wa_test'@'%' IDENTIFIED BY 'wa_test';
            GRANT ALL PRIVILEGES ON *.* TO 'wa_test'@'%';" || \
            echo "warning: could not create the MariaDB test account wa_test" >&2
    fi
}

ensure_postgres() {
    if [ -z "${WA_TEST_POSTGRES_URL:-}" ]; then
        if ! postgres_up; then
            apt_install postgresql postgresql-client
            step "starting PostgreSQL"
            as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start \
                >/dev/null 2>&1 || as_root service postgresql start
            wait_for PostgreSQL postgres_up
        fi
        local sql="DO \$\$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wa_test') THEN
                CREATE ROLE wa_test LOGIN SUPERUSER PASSWORD 'wa_test';
            END IF; END \$\$;"
        as_root runuser -u postgres -- psql -q -c "$sql" >/dev/null 2>&1 || \
            psql -q -h 127.0.0.1 -U postgres -c "$sql" >/dev/null || \
            echo "warning: could not create the PostgreSQL test role wa_test" >&2
    fi
}

# ---- deployment checks (issue 6: deploy/, docker-compose*.yml, db.env) ---------------------------
# No Docker engine is needed. The Python tools (cfn-lint, PyYAML, BuildKit's Dockerfile parser)
# live in a virtual environment outside the work tree, keyed by deploy/requirements.txt, so they
# install once per machine (about a minute) and then cost nothing; CI's fresh clones reuse it.

# An empty Python virtual environment in $1 (replacing what is there). Debian's python3 has venv
# only with python3-venv (ensurepip); pyenv and python.org builds have it built in.
new_venv() {
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
    rm -rf "$1"
    python3 -m venv "$1" >/dev/null 2>&1 || {
        rm -rf "$1"
        apt_install python3-venv
        python3 -m venv "$1"
    }
}

deploy_tools() {
    DEPLOY_TOOLS="${WA_DEPLOY_TOOLS_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/wa-onprem/deploy-tools}"
    if [ -x "$DEPLOY_TOOLS/bin/python" ] && cmp -s deploy/requirements.txt "$DEPLOY_TOOLS/requirements.txt"; then
        return 0
    fi
    step "installing the deployment check tools into $DEPLOY_TOOLS"
    new_venv "$DEPLOY_TOOLS"
    "$DEPLOY_TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r deploy/requirements.txt
    cp deploy/requirements.txt "$DEPLOY_TOOLS/requirements.txt"
}

check_deployment() {
    deploy_tools
    # Compose files, env files, Dockerfile targets and their wiring (see the script's docstring).
    "$DEPLOY_TOOLS/bin/python" deploy/check_compose.py
    # CloudFormation: errors fail; the templates are kept free of warnings too. The project's
    # policy rules (deploy/aws/policy: database TLS, engine versions, client addresses, migrations,
    # alarms) run as cfn-lint rules.
    "$DEPLOY_TOOLS/bin/cfn-lint" --append-rules deploy/aws/policy -- deploy/aws/*.yml
    echo "cfn-lint ok, with the policy rules of deploy/aws/policy: $(echo deploy/aws/*.yml)"
    # haproxy's own parser on the load balancer of the two-webapp file. Outside Docker the server
    # names do not resolve (a warning haproxy expects); any other warning fails the check.
    apt_install haproxy
    local lb_config="deploy/compose/haproxy.cfg" haproxy_out
    haproxy_out=$(haproxy -c -f "$lb_config" 2>&1) || { echo "$haproxy_out"; return 1; }
    if echo "$haproxy_out" | grep WARNING | grep -qv "could not resolve address"; then
        echo "$haproxy_out"
        echo "haproxy: warnings in $lb_config" >&2
        return 1
    fi
    echo "haproxy -c ok: $lb_config"
    check_monitoring
    # The reference parser when it is really there (the docker CLI alone has no compose plugin);
    # `config` reads the files only and needs no engine.
    if docker compose version >/dev/null 2>&1; then
        local file
        # The files require the operator's secrets key; any well-formed value lets them resolve.
        local check_key="wa-check-key-0000000000000000000000000000000000000000000"
        for file in docker-compose.yml deploy/compose/*.yml; do
            WA_API_VERSION=0.0.0-check WA_SECRETS_KEY="$check_key" docker compose -f "$file" config --quiet
        done
        WA_API_VERSION=0.0.0-check WA_SECRETS_KEY="$check_key" WA_API_KEY=check-key-0123456789 \
            GF_SECURITY_ADMIN_PASSWORD=check docker compose \
            -f docker-compose.yml -f deploy/monitoring/compose.yml config --quiet
        echo "docker compose config ok"
    else
        echo "docker compose is not available here: compose files checked by deploy/check_compose.py only"
    fi
}
# Prometheus's own checker (Debian's prometheus package) on the scrape configuration and the alert
# rules, and the rules' unit tests (each alert fires on the series meant to trigger it). The key
# file is the operator's; a stand-in lets `check config` see that the path resolves. Then the
# Grafana files against Grafana's documented formats. Prometheus and mysqld-exporter also serve
# crates/e2e/tests/prometheus_queries.rs, which runs every dashboard and alert query.
check_monitoring() {
    command -v promtool >/dev/null 2>&1 || apt_install prometheus
    command -v prometheus-mysqld-exporter >/dev/null 2>&1 || apt_install prometheus-mysqld-exporter
    local dir
    dir=$(mktemp -d)
    cp deploy/monitoring/prometheus.yml deploy/monitoring/alerts.yml "$dir/"
    echo "stand-in-key-0123456789" > "$dir/wa_api_key"
    promtool check config "$dir/prometheus.yml" >/dev/null || { rm -rf "$dir"; return 1; }
    rm -rf "$dir"
    promtool check rules deploy/monitoring/alerts.yml >/dev/null
    promtool test rules deploy/monitoring/alerts_test.yml >/dev/null
    echo "promtool ok: deploy/monitoring/prometheus.yml, alerts.yml (rules tested)"
    "$DEPLOY_TOOLS/bin/python" deploy/check_grafana.py
}
# ---- end of deployment checks --------------------------------------------------------------------

# ---- admin console browser test (issue 8): Debian's Chromium, and Node.js with npm for
# playwright-core (which drives that Chromium; it never downloads a browser of its own).
ensure_browser_test_tools() {
    apt_install chromium chromium-driver
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        apt_install nodejs npm
    fi
}
# ---- end of admin console browser test tools -----------------------------------------------------

# ---- OpenAPI fuzzing (issue 18: scripts/check-openapi) --------------------------------------------
# schemathesis, pinned so that a new release cannot turn CI red by itself, in its own virtual
# environment outside the work tree (installed once per machine), never into the system Python.
SCHEMATHESIS_VERSION=4.32.5
schemathesis_tools() {
    local dir="${WA_SCHEMATHESIS_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/wa-onprem/schemathesis-$SCHEMATHESIS_VERSION}"
    command -v curl >/dev/null 2>&1 || apt_install curl
    if [ ! -x "$dir/bin/schemathesis" ]; then
        step "installing schemathesis $SCHEMATHESIS_VERSION into $dir"
        new_venv "$dir"
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check \
            "schemathesis==$SCHEMATHESIS_VERSION"
    fi
    export SCHEMATHESIS="$dir/bin/schemathesis"
}
# ---- end of OpenAPI fuzzing -----------------------------------------------------------------------

# ---- Cloud API client library (scripts/check-cloud-client) ----------------------------------------
# pywa, a widely used open-source Cloud API client, pinned like schemathesis and in its own virtual
# environment outside the work tree (installed once per machine), never into the system Python.
PYWA_VERSION=4.5.0
cloud_client_tools() {
    local dir="${WA_CLOUD_CLIENT_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/wa-onprem/pywa-$PYWA_VERSION}"
    command -v curl >/dev/null 2>&1 || apt_install curl
    if [ ! -x "$dir/bin/python" ] || ! "$dir/bin/python" -c 'import pywa' >/dev/null 2>&1; then
        step "installing pywa $PYWA_VERSION into $dir"
        new_venv "$dir"
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "pywa==$PYWA_VERSION"
    fi
    export CLOUD_CLIENT_PYTHON="$dir/bin/python"
}
# ---- end of Cloud API client library --------------------------------------------------------------

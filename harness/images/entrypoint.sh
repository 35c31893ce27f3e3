#!/bin/bash
# Entrypoint of regify-verify's MariaDB image. It honours the variables of the
# official mariadb/mysql images (MARIADB_* first, then MYSQL_*), runs
# /docker-entrypoint-initdb.d once on an empty datadir with a socket-only
# temporary server, and then execs mariadbd as PID 1 so that SIGTERM reaches
# the server. The final server is the only one that listens on TCP, so its
# "ready for connections ... port: 3306" line is the readiness signal.
set -euo pipefail

log() { echo "entrypoint: $*" >&2; }

# first returns the value of the first non-empty variable named in "$@".
first() {
	local v
	for v in "$@"; do
		if [ -n "${!v:-}" ]; then
			printf '%s' "${!v}"
			return
		fi
	done
}

# A first argument that is a flag means "mariadbd with these flags".
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
	set -- mariadbd "$@"
fi
case "$1" in
mariadbd | mysqld) ;;
*) exec "$@" ;;
esac

DATADIR=/var/lib/mysql
mkdir -p "$DATADIR" /run/mysqld
chown mysql:mysql "$DATADIR" /run/mysqld

if [ ! -d "$DATADIR/mysql" ]; then
	root_pw=$(first MARIADB_ROOT_PASSWORD MYSQL_ROOT_PASSWORD)
	allow_empty=$(first MARIADB_ALLOW_EMPTY_ROOT_PASSWORD MYSQL_ALLOW_EMPTY_PASSWORD)
	database=$(first MARIADB_DATABASE MYSQL_DATABASE)
	user=$(first MARIADB_USER MYSQL_USER)
	password=$(first MARIADB_PASSWORD MYSQL_PASSWORD)
	if [ -z "$root_pw" ] && [ -z "$allow_empty" ]; then
		log "error: database is uninitialized and no root password is set;"
		log "set MARIADB_ROOT_PASSWORD (or MYSQL_ROOT_PASSWORD) or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1"
		exit 1
	fi
	log "initialising $DATADIR"
	mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db \
		--auth-root-authentication-method=normal >/dev/null
	sock=/run/mysqld/init.sock
	"$1" --user=mysql --datadir="$DATADIR" --skip-networking --port=0 \
		--socket="$sock" --skip-log-bin --skip-slave-start &
	init_pid=$!
	for _ in $(seq 1 300); do
		if mariadb --protocol=socket --socket="$sock" -uroot -e 'SELECT 1' >/dev/null 2>&1; then
			break
		fi
		if ! kill -0 "$init_pid" 2>/dev/null; then
			log "error: the temporary server died during initialisation"
			exit 1
		fi
		sleep 0.1
	done
	sqlesc() { printf '%s' "$1" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/\\\\'/g"; }
	{
		echo "SET SESSION sql_log_bin=0;"
		echo "DELETE FROM mysql.global_priv WHERE User='' OR (User='root' AND Host NOT IN ('localhost'));"
		echo "FLUSH PRIVILEGES;"
		echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$(sqlesc "$root_pw")';"
		echo "CREATE USER 'root'@'%' IDENTIFIED BY '$(sqlesc "$root_pw")';"
		echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
		if [ -n "$database" ]; then
			echo "CREATE DATABASE IF NOT EXISTS \`$database\`;"
		fi
		if [ -n "$user" ] && [ -n "$password" ]; then
			echo "CREATE USER '$(sqlesc "$user")'@'%' IDENTIFIED BY '$(sqlesc "$password")';"
			if [ -n "$database" ]; then
				echo "GRANT ALL ON \`$database\`.* TO '$(sqlesc "$user")'@'%';"
			fi
		fi
	} | mariadb --protocol=socket --socket="$sock" -uroot
	client=(mariadb --protocol=socket --socket="$sock" -uroot)
	if [ -n "$root_pw" ]; then
		client+=("-p$root_pw")
	fi
	if [ -n "$database" ]; then
		client+=("$database")
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		case "$f" in
		*.sh) log "running $f"; . "$f" ;;
		*.sql) log "running $f"; "${client[@]}" <"$f" ;;
		*.sql.gz) log "running $f"; gunzip -c "$f" | "${client[@]}" ;;
		*) log "ignoring $f" ;;
		esac
	done
	"${client[@]}" -e 'SHUTDOWN'
	wait "$init_pid" || true
	log "initialisation done"
	# The harness commits an initialised datadir as an image of its own
	# (a server from it starts in a second instead of four): it asks for
	# the initialisation alone with this file, which goes with it.
	if [ -e /rv-init-only ]; then
		rm -f /rv-init-only
		log "initialised only, as asked"
		exit 0
	fi
fi

log "starting the final server"
exec "$@" --user=mysql

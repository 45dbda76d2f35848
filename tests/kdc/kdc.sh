#!/bin/bash
# A private MIT Kerberos KDC for the tests: its own realm in a temporary
# directory, listening on 127.0.0.1 only (a qemu guest reaches it at
# 10.0.2.2). Nothing outside that directory is read or written: every
# Kerberos program gets it through KRB5_CONFIG, KRB5_KDC_PROFILE,
# KRB5CCNAME and KRB5RCACHEDIR; /etc/krb5.conf and any system KDC are
# never touched.
#
# Sourced (the interop tests):
#   . tests/kdc/kdc.sh
#   kdc_start            # sets and exports the KDC_* and KRB5* variables below
#   kdc_kinit USER PASS [REALM]   # a ticket-granting ticket into $KRB5CCNAME
#   kdc_admin "addprinc -randkey someone"   # any kadmin.local query
#   kdc_add_trusted_realm OTHER.TEST   # a second realm and KDC, trusted both ways
#   kdc_stop             # stops the krb5kdc(s) by pid, removes the directory
# Run (by hand):
#   tests/kdc/kdc.sh start      # prints the variables as shell assignments
#   tests/kdc/kdc.sh env DIR    # prints them again
#   tests/kdc/kdc.sh stop DIR
#
# What it creates (KDC_REALM, default PORTHOS.TEST):
#   $KDC_USER@REALM with password $KDC_PASS          (a user)
#   $KDC_STRANGER@REALM with password $KDC_PASS      (a user the server does not know)
#   cifs/localhost and cifs/$KDC_HOSTNAME            (the SMB service, random keys)
#   $KDC_KEYTAB                                      (the service keytab)
# Encryption types: AES-256 and AES-128 (CTS-HMAC-SHA1-96), AES-256 first,
# so session keys are 32 bytes.
# KDC_PORT (and KDC2_PORT) are free ports in 4470-4599, the range the
# interop tests own.

KDC_REALM=${KDC_REALM:-PORTHOS.TEST}
KDC_HOSTNAME=${KDC_HOSTNAME:-porthos.porthos.test}
KDC_USER=${KDC_USER:-krbuser}
KDC_STRANGER=${KDC_STRANGER:-krbstranger}
KDC_PASS=${KDC_PASS:-'Krb-Pa55word!'}

# A port free for TCP and UDP on 127.0.0.1.
kdc_free_port() {
	local p used
	used=$(ss -Htuan 2>/dev/null | awk '{print $5}' | sed -n 's/.*:\([0-9]*\)$/\1/p' | sort -u)
	for p in $(shuf -i 4470-4599 -n 130); do
		grep -qx "$p" <<<"$used" && continue
		(exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null && continue
		echo "$p"
		return 0
	done
	return 1
}

# kdc_admin_in PROFILE REALM QUERY: one kadmin.local query on a realm's database.
kdc_admin_in() {
	local out rc
	out=$(KRB5_KDC_PROFILE=$1 kadmin.local -r "$2" -q "$3" 2>&1)
	rc=$?
	printf '%s\n' "$out" >>"$KDC_DIR/kadmin.out"
	# kadmin.local exits 0 on most query errors: look at what it said too.
	if [ "$rc" -ne 0 ] || grep -qiE 'error|not found|while ' <<<"$out"; then
		echo "kdc: kadmin.local -r $2 '$3' failed: $out" >&2
		return 1
	fi
}

kdc_admin() {
	kdc_admin_in "$KDC_DIR/kdc.conf" "$KDC_REALM" "$1"
}

kdc_kinit() { # USER PASS [REALM]
	printf '%s\n' "$2" | kinit "$1@${3:-$KDC_REALM}" >"$KDC_DIR/kinit.out" 2>&1 ||
		{ echo "kdc: kinit $1 failed: $(cat "$KDC_DIR/kinit.out")" >&2; return 1; }
}

# The clients' krb5.conf: our realm, and the trusted one once it exists.
kdc_write_krb5_conf() {
	{
		cat <<EOF
[libdefaults]
	default_realm = $KDC_REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	udp_preference_limit = 1
	ticket_lifetime = 10h
	forwardable = false
	# Everything runs on one clock. MIT lets an acceptor honour a ticket
	# for this long past its end, and the server (which reads this file
	# too) ends sessions then: short, so the expiry test is quick.
	clockskew = 2
[realms]
	$KDC_REALM = {
		kdc = 127.0.0.1:$KDC_PORT
	}
EOF
		[ -z "${KDC2_REALM:-}" ] || cat <<EOF
	$KDC2_REALM = {
		kdc = 127.0.0.1:$KDC2_PORT
	}
[capaths]
	$KDC2_REALM = {
		$KDC_REALM = .
	}
	$KDC_REALM = {
		$KDC2_REALM = .
	}
EOF
		cat <<EOF
[domain_realm]
	localhost = $KDC_REALM
	$KDC_HOSTNAME = $KDC_REALM
EOF
	} >"$KDC_DIR/krb5.conf.tmp" && mv "$KDC_DIR/krb5.conf.tmp" "$KDC_DIR/krb5.conf"
}

# kdc_write_kdc_conf DIR REALM PORT: a realm's kdc.conf, database in DIR/db.
kdc_write_kdc_conf() {
	cat >"$1/kdc.conf" <<EOF
[kdcdefaults]
	kdc_listen = 127.0.0.1:$3
	kdc_tcp_listen = 127.0.0.1:$3
[realms]
	$2 = {
		database_name = $1/db/principal
		key_stash_file = $1/db/stash
		acl_file = $1/kadm5.acl
		max_life = 10h
		max_renewable_life = 0
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}
[logging]
	kdc = FILE:$1/kdc.log
	admin_server = FILE:$1/kadmin.log
	default = FILE:$1/krb5lib.log
EOF
	: >"$1/kadm5.acl"
}

kdc_export() {
	export KDC_DIR KDC_REALM KDC_PORT KDC_PID KDC_HOSTNAME KDC_USER KDC_STRANGER KDC_PASS
	export KDC_KEYTAB="$KDC_DIR/service.keytab"
	export KRB5_CONFIG="$KDC_DIR/krb5.conf"
	export KRB5_KDC_PROFILE="$KDC_DIR/kdc.conf"
	export KRB5CCNAME="FILE:$KDC_DIR/ccache"
	export KRB5RCACHEDIR="$KDC_DIR/rcache"
}

# kdc_create DIR REALM: the database of a realm, with a random master key.
kdc_create() {
	local master
	master=$(head -c 24 /dev/urandom | base64)
	KRB5_KDC_PROFILE=$1/kdc.conf kdb5_util -r "$2" create -s -P "$master" >"$1/kdb5_util.out" 2>&1 ||
		{ echo "kdc: kdb5_util create for $2 failed:" >&2; cat "$1/kdb5_util.out" >&2; return 1; }
}

# kdc_launch DIR REALM PORT: krb5kdc in the foreground, as a child of this
# shell; sets KDC_LAUNCHED to its pid, and returns once the port answers.
kdc_launch() {
	KRB5_KDC_PROFILE=$1/kdc.conf krb5kdc -n -r "$2" >"$1/krb5kdc.out" 2>&1 &
	KDC_LAUNCHED=$!
	local i
	for i in $(seq 1 100); do
		if (exec 3<>/dev/tcp/127.0.0.1/"$3") 2>/dev/null; then
			return 0
		fi
		kill -0 "$KDC_LAUNCHED" 2>/dev/null || break
		sleep 0.1
	done
	echo "kdc: krb5kdc for $2 did not start:" >&2
	cat "$1/krb5kdc.out" "$1/kdc.log" >&2 2>/dev/null
	return 1
}

# kdc_start [DIR]: creates the realm and starts its krb5kdc (kdc_stop ends it).
kdc_start() {
	local k
	for k in krb5kdc kdb5_util kadmin.local kinit; do
		command -v "$k" >/dev/null ||
			{ echo "kdc: $k missing (scripts/deps.sh test installs krb5-kdc, krb5-admin-server, krb5-user)" >&2; return 1; }
	done
	KDC_DIR=${1:-$(mktemp -d /tmp/porthos-kdc.XXXXXX)}
	mkdir -p "$KDC_DIR/db" "$KDC_DIR/rcache"
	chmod 700 "$KDC_DIR"
	KDC_PORT=$(kdc_free_port) || { echo "kdc: no free port" >&2; return 1; }
	KDC_PID=
	KDC2_REALM=
	KDC2_PID=
	kdc_write_kdc_conf "$KDC_DIR" "$KDC_REALM" "$KDC_PORT"
	kdc_write_krb5_conf
	kdc_export

	kdc_create "$KDC_DIR" "$KDC_REALM" || return 1
	kdc_admin "addprinc -pw $KDC_PASS $KDC_USER" &&
		kdc_admin "addprinc -pw $KDC_PASS $KDC_STRANGER" &&
		kdc_admin "addprinc -randkey cifs/localhost" &&
		kdc_admin "addprinc -randkey cifs/$KDC_HOSTNAME" &&
		kdc_admin "ktadd -k $KDC_KEYTAB cifs/localhost cifs/$KDC_HOSTNAME" || return 1
	chmod 600 "$KDC_KEYTAB"

	kdc_launch "$KDC_DIR" "$KDC_REALM" "$KDC_PORT" || return 1
	KDC_PID=$KDC_LAUNCHED
	export KDC_PID
}

# kdc_add_trusted_realm REALM: a second realm with its own KDC, trusted
# both ways by ours (cross-realm krbtgt keys in both databases, [capaths]
# in krb5.conf), holding a user of the same name as ours, $KDC_USER@REALM,
# with password $KDC_PASS. Sets KDC2_REALM, KDC2_PORT, KDC2_PID.
kdc_add_trusted_realm() {
	local dir="$KDC_DIR/realm2" xpw p
	mkdir -p "$dir/db"
	KDC2_REALM=$1
	# Not the port of the first KDC, which is taken by now anyway.
	KDC2_PORT=$(kdc_free_port) || { echo "kdc: no free port" >&2; return 1; }
	kdc_write_kdc_conf "$dir" "$KDC2_REALM" "$KDC2_PORT"
	kdc_create "$dir" "$KDC2_REALM" || return 1
	# The same key, kvno and salt on both sides, in each direction.
	xpw=$(head -c 24 /dev/urandom | base64)
	for p in "krbtgt/$KDC_REALM@$KDC2_REALM" "krbtgt/$KDC2_REALM@$KDC_REALM"; do
		kdc_admin_in "$dir/kdc.conf" "$KDC2_REALM" "addprinc -pw $xpw $p" &&
			kdc_admin "addprinc -pw $xpw $p" || return 1
	done
	kdc_admin_in "$dir/kdc.conf" "$KDC2_REALM" "addprinc -pw $KDC_PASS $KDC_USER" || return 1
	kdc_launch "$dir" "$KDC2_REALM" "$KDC2_PORT" || return 1
	KDC2_PID=$KDC_LAUNCHED
	kdc_write_krb5_conf
	export KDC2_REALM KDC2_PORT KDC2_PID
}

kdc_stop() {
	local pid
	for pid in "${KDC2_PID:-}" "${KDC_PID:-}"; do
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	KDC_PID=
	KDC2_PID=
	if [ "${PORTHOS_KEEP:-0}" != 1 ] && [ -n "${KDC_DIR:-}" ] && [ -d "$KDC_DIR" ]; then
		rm -rf "$KDC_DIR"
	fi
	KDC_DIR=
}

kdc_print_env() {
	local v
	for v in KDC_DIR KDC_REALM KDC_PORT KDC_PID KDC_HOSTNAME KDC_USER KDC_STRANGER KDC_PASS \
		KDC_KEYTAB KRB5_CONFIG KRB5_KDC_PROFILE KRB5CCNAME KRB5RCACHEDIR; do
		printf 'export %s=%q\n' "$v" "${!v}"
	done
}

# Run as a command rather than sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -uo pipefail
	case ${1:-} in
	start)
		# Detached, so the KDC outlives this command; its pid is in the env file.
		kdc_start "${2:-}" || { kdc_stop; exit 1; }
		kdc_print_env >"$KDC_DIR/env"
		disown "$KDC_PID"
		cat "$KDC_DIR/env"
		;;
	env)
		cat "${2:?usage: kdc.sh env DIR}/env"
		;;
	stop)
		dir=${2:?usage: kdc.sh stop DIR}
		# shellcheck disable=SC1091
		. "$dir/env"
		kill "$KDC_PID" 2>/dev/null
		for _ in $(seq 1 50); do kill -0 "$KDC_PID" 2>/dev/null || break; sleep 0.1; done
		rm -rf "$dir"
		;;
	*)
		echo "usage: $0 start [DIR] | env DIR | stop DIR" >&2
		exit 2
		;;
	esac
fi

#!/bin/bash
# Installs what is missing, builds, and runs porthos-smbd in the foreground
# with a demo share on loopback and a demo user. Ctrl-C stops it.
#   scripts/demo.sh            (PORT=4455 DEMO_DIR=/tmp/porthos-demo by default)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PORT=${PORT:-4455}
DEMO_DIR=${DEMO_DIR:-/tmp/porthos-demo}
DEMO_USER=demo
DEMO_PASS=${DEMO_PASS:-demo-Passw0rd}

scripts/deps.sh build
scripts/build.sh

mkdir -p "$DEMO_DIR/share" "$DEMO_DIR/state"
[ -e "$DEMO_DIR/share/hello.txt" ] || echo "Hello from Porthos" > "$DEMO_DIR/share/hello.txt"
cat > "$DEMO_DIR/porthos.conf" <<CONF
[global]
    netbios name = PORTHOS
    listen = 127.0.0.1:$PORT
    state directory = $DEMO_DIR/state
    server signing = required

[demo]
    path = $DEMO_DIR/share
    comment = Porthos demo share
    read only = no
CONF
printf '%s\n' "$DEMO_PASS" | build/porthos-ctl --passdb "$DEMO_DIR/state/passdb" user add "$DEMO_USER" \
	--uid "$(id -u)" --gid "$(id -g)" --password-stdin >/dev/null
build/porthos-smbd --config "$DEMO_DIR/porthos.conf" --check

cat <<MSG

Porthos serves $DEMO_DIR/share as //127.0.0.1/demo on port $PORT.
User: $DEMO_USER   Password: $DEMO_PASS

  smbclient //127.0.0.1/demo -p $PORT -U '$DEMO_USER%$DEMO_PASS' -m SMB3 -c 'ls'
  smbclient -L //127.0.0.1 -p $PORT -U '$DEMO_USER%$DEMO_PASS'
  mount -t cifs //127.0.0.1/demo /mnt -o port=$PORT,vers=3.1.1,username=$DEMO_USER,password='$DEMO_PASS'

Stop with Ctrl-C.
MSG
exec build/porthos-smbd --config "$DEMO_DIR/porthos.conf"

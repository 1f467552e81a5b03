#!/usr/bin/env bash
# Makes a local stand-in for the official node:20 images where none can be pulled (as on the machines this
# project is tested on): Debian bookworm from Debian's mirror (mmdebstrap), with this machine's Node.js and npm,
# its Node headers (native addons build against them: nodejs.org cannot be reached), build tools for
# better-sqlite3, the `node` user (uid 1000) the official images have, and this machine's own CA certificates
# (its network's TLS to the npm registry goes through them). Imported into podman as
# localhost/api-users-node:20; does nothing when that image exists. Run as root.
set -euo pipefail
IMAGE=localhost/api-users-node:20
if podman image exists "$IMAGE"; then exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node_bin=$(command -v node)
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
mmdebstrap --quiet --variant=minbase --include=ca-certificates,python3,make,g++ \
  --customize-hook="copy-in $node_bin /usr/local/bin" \
  --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\"" \
  --customize-hook="copy-in $npm_dir /usr/local/lib/node_modules" \
  --customize-hook="ln -s ../lib/node_modules/npm/bin/npm-cli.js \"\$1/usr/local/bin/npm\"" \
  --customize-hook="copy-in /usr/include/node /usr/local/include" \
  --customize-hook="copy-in /usr/local/share/ca-certificates /usr/local/share" \
  --customize-hook="chroot \"\$1\" update-ca-certificates" \
  --customize-hook="chroot \"\$1\" useradd --create-home --uid 1000 --shell /bin/bash node" \
  bookworm "$work/rootfs.tar"
podman import --quiet \
  --change 'ENV npm_config_nodedir=/usr/local' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' \
  "$work/rootfs.tar" "$IMAGE" >/dev/null

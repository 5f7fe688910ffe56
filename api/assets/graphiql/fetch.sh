#!/usr/bin/env bash
# Downloads the pinned packages again, checks npm's integrity for each tarball, and compares the
# files with the ones kept here (SHA256SUMS). Needs npm and network; changes nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
fetch() { # package file-in-package kept-as
  local pkg=$1 from=$2 to=$3 dir
  dir="x-${pkg//[@\/]/_}"
  if [ ! -d "$dir" ]; then
    local tgz
    tgz=$(npm pack --silent "$pkg")
    local want got
    want=$(npm view "$pkg" dist.integrity)
    got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    [ "$want" = "$got" ] || { echo "$pkg: integrity $got, npm says $want" >&2; exit 1; }
    mkdir "$dir" && tar xzf "$tgz" -C "$dir"
  fi
  cmp "$dir/package/$from" "$here/$to" && echo "$to: as in $pkg"
}
fetch graphiql@4.0.3 graphiql.min.js graphiql-4.0.3.min.js
fetch graphiql@4.0.3 graphiql.min.css graphiql-4.0.3.min.css
fetch react@18.3.1 umd/react.production.min.js react-18.3.1.min.js
fetch react-dom@18.3.1 umd/react-dom.production.min.js react-dom-18.3.1.min.js
fetch graphql-ws@5.16.2 umd/graphql-ws.min.js graphql-ws-5.16.2.min.js
(cd "$here" && sha256sum -c --quiet SHA256SUMS) && echo "SHA256SUMS: all match"

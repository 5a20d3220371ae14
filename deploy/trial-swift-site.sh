#!/bin/sh
# A TRIAL S3 "site" (docs/operations.md, 10): a one-node OpenStack Swift from Debian's
# packages with its s3api middleware, data in /srv/s3/site-N/devices. Not for production.
#   deploy/trial-swift-site.sh N SECRET  (N = 1..9) -> /srv/s3/site-N, S3 on 127.0.0.1:94N0,
#   access key kluis:kluis, secret key SECRET. Ports 6N00-6N02 serve its inner servers.
set -eu
n=$1 secret=$2
dir=/srv/s3/site-$n
install -d -o swift -g swift "$dir" "$dir/devices/d1" "$dir/run"
cat > "$dir/server.conf" <<CONF
[DEFAULT]
devices = $dir/devices
mount_check = false
bind_ip = 127.0.0.1
workers = 1
user = swift
swift_dir = $dir
log_facility = LOG_LOCAL$n
CONF
for s in account container object; do
  case $s in account) port=6${n}02;; container) port=6${n}01;; object) port=6${n}00;; esac
  { sed "s/^workers = 1/workers = 1\nbind_port = $port/" "$dir/server.conf"
    printf '[pipeline:main]\npipeline = %s-server\n[app:%s-server]\nuse = egg:swift#%s\n' "$s" "$s" "$s"
  } > "$dir/$s-server.conf"
  [ $s = object ] && printf '[object-replicator]\n[object-updater]\n[object-auditor]\n' >> "$dir/$s-server.conf"
  [ $s = container ] && printf '[container-replicator]\n[container-updater]\n[container-auditor]\n[container-sync]\n' >> "$dir/$s-server.conf"
  [ $s = account ] && printf '[account-replicator]\n[account-auditor]\n[account-reaper]\n' >> "$dir/$s-server.conf"
  ( cd "$dir" && swift-ring-builder $s.builder create 10 1 1 >/dev/null &&
    swift-ring-builder $s.builder add r1z1-127.0.0.1:$port/d1 100 >/dev/null &&
    swift-ring-builder $s.builder rebalance >/dev/null || true )
done
cat > "$dir/proxy-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = 94${n}0
workers = 1
user = swift
swift_dir = $dir
log_facility = LOG_LOCAL$n

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
# S3 access key "kluis:kluis", secret key: the password
user_kluis_kluis = $secret .admin

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
use = egg:swift#memcache
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
CONF
chown -R swift:swift "$dir"

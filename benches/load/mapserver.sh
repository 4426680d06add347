# MapServer as PEERS.md runs it: two FastCGI processes (spawn-fcgi) behind
# nginx. Source it after lib.sh; needs Debian's cgi-mapserver, spawn-fcgi
# and nginx.

# start_mapserver MAPFILE PORT: serves MAPFILE on 127.0.0.1:PORT and prints
# the PID of nginx's master, the parent of both MapServer processes, so
# that `measure` counts their CPU together.
start_mapserver() {
  local map=$1 port=$2 dir=$OUT/mapserver-$2
  mkdir -p "$dir"
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  upstream mapserv {
    server unix:$dir/fcgi-1.sock;
    server unix:$dir/fcgi-2.sock;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      # One connection per request: a MapServer process serves one
      # connection at a time, and a kept-alive idle one would block it.
      fastcgi_pass mapserv;
      include /etc/nginx/fastcgi_params;
      # Under FastCGI a process's environment does not reach MapServer:
      # the mapfile is a request parameter.
      fastcgi_param MS_MAPFILE $map;
    }
  }
}
CONF
  # MapServer 8 refuses to answer without /etc/mapserver.conf (Debian's
  # 8.0.0 ignores MS_CONFIG_FILE); this one lets a request name any mapfile.
  [ -f /etc/mapserver.conf ] || cat > /etc/mapserver.conf <<CONF
CONFIG
  ENV
    MS_MAP_PATTERN "."
  END
END
CONF
  rm -f "$dir"/fcgi-*.sock
  # spawn-fcgi -n execs MapServer in place; nginx then execs over the
  # shell, so both MapServer processes are children of nginx's master.
  setsid bash -c "
    spawn-fcgi -n -M 0666 -s $dir/fcgi-1.sock -- /usr/lib/cgi-bin/mapserv &
    spawn-fcgi -n -M 0666 -s $dir/fcgi-2.sock -- /usr/lib/cgi-bin/mapserv &
    exec nginx -c $dir/nginx.conf -g 'daemon off;'" >/dev/null 2>&1 &
  echo $!
}

# stop_mapserver PID: stops nginx and the MapServer processes under it.
stop_mapserver() {
  local pids
  pids=$(family "$1")
  kill $pids 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  # MapServer under FastCGI outlives SIGTERM while it waits for a request.
  sleep 0.5
  kill -9 $pids 2>/dev/null || true
}

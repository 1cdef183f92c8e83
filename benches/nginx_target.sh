# Sourced by the bench scripts: a loopback nginx answering GET /health with {"status":"healthy"}.
#   start_nginx_target WORK_DIR      sets $port, appends nginx's pid to $pids (needs free_port defined)

start_nginx_target() {
  local work=$1
  port=$(free_port)
  mkdir -p "$work/html" "$work/logs"
  echo '{"status":"healthy"}' > "$work/html/health"
  cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 4096; }
http { access_log off; default_type application/json;
  server { listen 127.0.0.1:$port; location / { root $work/html; } } }
CONF
  nginx -c "$work/nginx.conf" -p "$work"
  pids+=("$(cat "$work/nginx.pid")")
}

# Sourced by install.sh: `--service` (a `hearth` system user, the systemd unit, enable and start) and `--uninstall-service`.
# Uses install.sh's say, die and as_root; run from the checkout's root.

SERVICE_USER=hearth
SERVICE_HOME=/var/lib/hearth
SERVICE_UNIT=/etc/systemd/system/hearth.service
SERVICE_ENV=/etc/hearth.env

# What Hearth reads from this checkout while it runs (never certs/ or var/: they may hold keys and data).
SERVICE_READS=(dist node_modules public views scripts package.json)

# Whether systemd manages this machine (what sd_booted() asks): not in most containers.
systemd_running() { [ -d /run/systemd/system ]; }

under_home() { [[ $1 == /home/* || $1 == /root/* || $1 == /run/user/* ]]; }

# make_readable — Hearth runs as `hearth`, which is neither the owner of these files nor in their
# group: they need read permission for others (directories: also search). A checkout made with
# umask 077 lacks it; only what Hearth reads is opened up, nothing else of the checkout.
make_readable() {
  local repo=$PWD closed
  closed=$(find "${SERVICE_READS[@]}" \( -type d ! -perm -o=rx \) -o \( -type f ! -perm -o=r \) -print -quit)
  if [ -n "$closed" ]; then
    say "Letting the $SERVICE_USER user read ${SERVICE_READS[*]} (chmod -R o+rX; e.g. $closed was closed to others)"
    chmod -R o+rX "${SERVICE_READS[@]}" 2>/dev/null || as_root chmod -R o+rX "${SERVICE_READS[@]}"
  fi
  [ -n "$(find "$repo" -maxdepth 0 -perm -o=x)" ] || { say "Letting the $SERVICE_USER user enter $repo (chmod o+x)"; chmod o+x "$repo" 2>/dev/null || as_root chmod o+x "$repo"; }
  if under_home "$repo"; then
    # The unit binds the checkout into an otherwise empty /home (ProtectHome=tmpfs), so the home
    # directory's own permissions (often 0700) do not matter.
    return
  fi
  local dir=$repo
  while dir=$(dirname "$dir") && [ "$dir" != / ]; do
    [ -n "$(find "$dir" -maxdepth 0 -perm -o=x)" ] || die "the $SERVICE_USER user cannot enter $dir (it is closed to others). Move the checkout (e.g. to /opt/hearth) or run: sudo chmod o+x $dir"
  done
}

install_service() {
  command -v systemctl >/dev/null || systemd_running || say "systemd is not installed; the unit is written anyway, for when it is"
  local unit
  unit=$(scripts/service-unit.sh) || die "could not make the unit (above: why)"
  make_readable

  if ! id "$SERVICE_USER" >/dev/null 2>&1; then
    say "Creating the system user $SERVICE_USER (no login shell, home $SERVICE_HOME)"
    as_root useradd --system --user-group --home-dir "$SERVICE_HOME" --no-create-home --shell /usr/sbin/nologin \
      --comment 'Hearth meeting place' "$SERVICE_USER"
  fi
  as_root install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0750 "$SERVICE_HOME"
  # The proof: the service's user itself opens the entry point (outside a home; in one, the unit's bind mount decides).
  under_home "$PWD" || as_root runuser -u "$SERVICE_USER" -- test -r "$PWD/dist/server/main.js" || die "the $SERVICE_USER user cannot read $PWD/dist/server/main.js"

  # Devices that already trust this checkout's CA (from `npm start`) keep trusting the service.
  if [ -f certs/ca.crt ] && [ -f certs/ca.key ] && ! as_root test -e "$SERVICE_HOME/certs/ca.crt"; then
    say "Copying this checkout's certificate authority to $SERVICE_HOME/certs (devices that trust it need nothing new)"
    as_root install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0750 "$SERVICE_HOME/certs"
    as_root install -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0644 certs/ca.crt "$SERVICE_HOME/certs/ca.crt"
    as_root install -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0600 certs/ca.key "$SERVICE_HOME/certs/ca.key"
  fi
  if [ -d var/redis ] && ! as_root test -e "$SERVICE_HOME/redis"; then
    say "Note: the accounts and rooms of 'npm start' are in $PWD/var; the service starts empty in $SERVICE_HOME."
    printf '    To carry them over: stop npm start, then\n    sudo systemctl stop hearth && sudo cp -a var/redis var/session-secret %s/ && sudo chown -R %s: %s && sudo systemctl start hearth\n' \
      "$SERVICE_HOME" "$SERVICE_USER" "$SERVICE_HOME"
  fi

  if ! as_root test -e "$SERVICE_ENV"; then
    printf '%s\n' '# Settings for the hearth service, one VARIABLE=value a line (README: Configuration).' \
      '# After a change: sudo systemctl restart hearth' '#PORT=443' '#HTTP_PORT=80' '#REGISTRATION=invite' '#TRUST_PROXY=127.0.0.1' \
      | as_root install -m 0600 /dev/stdin "$SERVICE_ENV"
  fi

  say "Installing $SERVICE_UNIT"
  printf '%s\n' "$unit" | as_root install -m 0644 /dev/stdin "$SERVICE_UNIT"
  if systemd_running; then
    as_root systemctl daemon-reload
    as_root systemctl enable hearth.service
    # restart, not start: after an upgrade the running Hearth must pick up the new build and unit.
    as_root systemctl restart hearth.service
    say "Hearth runs as a service and starts at boot. Logs: journalctl -u hearth -f   Settings: $SERVICE_ENV"
  else
    say "systemd is not running on this machine (PID 1: $(ps -p 1 -o comm= 2>/dev/null || echo unknown)), so nothing was started."
    printf '    On a machine booted with systemd, run: sudo systemctl daemon-reload && sudo systemctl enable --now hearth\n'
  fi
}

uninstall_service() {
  local purge=$1
  if systemd_running; then
    as_root systemctl disable --now hearth.service 2>/dev/null || true
  fi
  if as_root test -e "$SERVICE_UNIT"; then
    say "Removing $SERVICE_UNIT"
    as_root rm -f "$SERVICE_UNIT"
  else
    say "No $SERVICE_UNIT to remove"
  fi
  if systemd_running; then
    as_root systemctl daemon-reload
    as_root systemctl reset-failed hearth.service 2>/dev/null || true
  fi
  if [ "$purge" = yes ]; then
    say "Removing $SERVICE_HOME (accounts, rooms, chat, the certificate authority), $SERVICE_ENV and the $SERVICE_USER user"
    as_root rm -rf "$SERVICE_HOME" "$SERVICE_ENV"
    if id "$SERVICE_USER" >/dev/null 2>&1; then as_root userdel "$SERVICE_USER"; fi
  else
    say "Kept $SERVICE_HOME (accounts, rooms, chat, the certificate authority), $SERVICE_ENV and the $SERVICE_USER user."
    printf '    To remove them too: ./install.sh --uninstall-service --purge\n'
  fi
}

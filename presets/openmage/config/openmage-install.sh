#!/bin/sh
# openmage-install.sh [INSTALL.PHP OPTIONS...] (prodlike run install): OpenMage's own installer (install.php)
# with this environment's database (DB_*), URL (PRODLIKE_URL) and the crypt key local.xml
# already carries, so what prodlike renders afterwards matches what the installer wrote.
# An admin account `admin` is made with a generated password, printed once (as drush
# site:install does); options given after `--` replace any of these.
set -eu
cd "${PRODLIKE_CODE_PATH:-.}"
if [ ! -f install.php ]; then
  echo "install.php is not in $(pwd): is this an OpenMage checkout?" >&2
  exit 2
fi
key=$(php -r '$xml = @simplexml_load_file("app/etc/local.xml"); echo $xml ? (string) $xml->global->crypt->key : "";')
# Letters and digits, as OpenMage's password rules want both.
password="$(tr -dc 'a-km-zA-HJ-NP-Z2-9' </dev/urandom | head -c 12)a7"
log=$(mktemp)
status=0
php -d memory_limit=1G install.php \
  --license_agreement_accepted yes --locale en_US --timezone UTC --default_currency USD \
  --db_host "$DB_HOST" --db_name "$DB_NAME" --db_user "$DB_USER" --db_pass "$DB_PASSWORD" \
  --url "$PRODLIKE_URL/" --secure_base_url "$PRODLIKE_URL/" \
  --use_rewrites yes --use_secure no --use_secure_admin no --skip_url_validation yes \
  --admin_firstname Local --admin_lastname Admin --admin_email admin@localhost.localdomain \
  --admin_username admin --admin_password "$password" \
  ${key:+--encryption_key "$key"} "$@" >"$log" 2>&1 || status=$?
# The installer ends with "SUCCESS: <crypt key>": the key is the environment's secret.
sed 's/^SUCCESS: .*/SUCCESS/' "$log"
rm -f "$log"
if [ "$status" -ne 0 ]; then exit "$status"; fi
printf '\nOpenMage is installed. Admin: %s/admin  user: admin  password: %s\n' "$PRODLIKE_URL" "$password"

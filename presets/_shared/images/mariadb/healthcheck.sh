#!/bin/sh
# Healthy once the server answers over TCP as the application user: that is what
# php-fpm and the cli container will do.
exec mariadb-admin ping --protocol=tcp -h 127.0.0.1 -u"$MARIADB_USER" -p"$MARIADB_PASSWORD" --silent >/dev/null 2>&1

<?php

/**
 * @file
 * prodlike:generated. Written by prodlike on every `prodlike up`; edits are overwritten.
 * To take this file over, delete the marker word on the first line of this comment.
 *
 * Database credentials and site settings come from the environment prodlike injects into
 * the php-fpm and cli containers, so nothing secret is written to disk.
 */

if (getenv('PRODLIKE_ENV') !== FALSE) {
  $databases['default']['default'] = [
    'driver' => getenv('DB_DRIVER') ?: 'mysql',
    'host' => getenv('DB_HOST'),
    'port' => getenv('DB_PORT'),
    'database' => getenv('DB_NAME'),
    'username' => getenv('DB_USER'),
    'password' => getenv('DB_PASSWORD'),
    'prefix' => '',
    'collation' => 'utf8mb4_general_ci',
    'namespace' => 'Drupal\\mysql\\Driver\\Database\\mysql',
    'autoload' => 'core/modules/mysql/src/Driver/Database/mysql/',
  ];
  $settings['hash_salt'] ??= hash('sha256', 'prodlike:' . getenv('PRODLIKE_ENV'));
  $settings['trusted_host_patterns'] = ['^127\.0\.0\.1$', '^localhost$', '\.localhost$'];
  $settings['config_sync_directory'] ??= '../config/sync';
  $settings['file_private_path'] ??= '../private';
  $config['system.logging']['error_level'] = 'verbose';
}

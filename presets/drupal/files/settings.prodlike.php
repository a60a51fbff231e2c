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
  // Twig templates compiled again when their file changed (prodlike.services.yml): an
  // edit is served at once, as DDEV's development settings do.
  $settings['container_yamls'][] = __DIR__ . '/prodlike.services.yml';

  // Mail reaches the environment's catcher only, whatever configuration came with a
  // pull from production: PHP's mailer (sendmail_path is msmtp to the catcher) for every
  // module, and the mailers that speak SMTP themselves (core's Symfony mailer, the SMTP
  // module) pointed at the catcher, without credentials or TLS.
  $config['system.mail']['interface']['default'] = 'php_mail';
  $config['system.mail']['mailer_dsn'] = [
    'scheme' => 'smtp',
    'host' => getenv('SMTP_HOST') ?: 'mail',
    'port' => (int) (getenv('SMTP_PORT') ?: 1025),
    'user' => '',
    'password' => '',
    'options' => [],
  ];
  $config['mailsystem.settings']['defaults']['sender'] = 'php_mail';
  $config['smtp.settings']['smtp_on'] = FALSE;
  $config['smtp.settings']['smtp_host'] = getenv('SMTP_HOST') ?: 'mail';
  $config['smtp.settings']['smtp_port'] = getenv('SMTP_PORT') ?: '1025';
  $config['smtp.settings']['smtp_protocol'] = 'standard';
  $config['smtp.settings']['smtp_username'] = '';
  $config['smtp.settings']['smtp_password'] = '';
}

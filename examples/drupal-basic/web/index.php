<?php

/**
 * @file
 * A small stand-in for Drupal's front controller: it loads settings the way Drupal does
 * (settings.php -> settings.prodlike.php -> $databases, read from the injected
 * environment) and renders a value read from MariaDB. Replace this folder with a real
 * Drupal codebase and the same settings reach Drupal.
 *
 * Where a real site broke in a local environment, it behaves as Drupal does:
 * - /user redirects to /user/login with an absolute URL built from HTTP_HOST and
 *   SERVER_PORT (Symfony's Request::getSchemeAndHttpHost); the login form POSTs and is
 *   answered with a 303 to /user/1, built the same way.
 * - /files/write writes a file into the public files folder and answers its URL.
 * - /install is the installer's settings step: when the config sync folder is missing it
 *   rewrites settings.php with the database password and a hash_salt in plain text, as
 *   Drupal's installer does; either way it hardens sites/default (0555) and settings.php
 *   (0444) afterwards.
 * - / keeps the greeting in APCu once read, as Drupal's cache backends do.
 */

$app_root = __DIR__;
$site_path = 'sites/default';
$databases = [];
$settings = [];
$config = [];
require __DIR__ . '/sites/default/settings.php';

$db = $databases['default']['default'] ?? NULL;
if ($db === NULL) {
  http_response_code(500);
  echo "No database settings: is settings.prodlike.php included from settings.php?\n";
  exit;
}

$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH) ?: '/';
switch ($path) {
  case '/user':
    redirect('/user/login', 302);
  case '/user/login':
    if (($_SERVER['REQUEST_METHOD'] ?? 'GET') === 'POST') {
      redirect('/user/1?check_logged_in=1', 303);
    }
    header('Content-Type: text/html; charset=utf-8');
    echo '<form method="post" action="' . htmlspecialchars(base_url() . '/user/login') . '"><input name="name"><button>Log in</button></form>' . "\n";
    exit;
  case '/files/write':
    $name = 'probe-' . bin2hex(random_bytes(4)) . '.css';
    $folder = __DIR__ . '/sites/default/files';
    if (@file_put_contents("$folder/$name", "written by php-fpm\n") === FALSE) {
      http_response_code(500);
      echo "The file system is not writable: $folder\n";
      exit;
    }
    echo base_url() . "/sites/default/files/$name\n";
    exit;
  case '/install':
    install_settings($settings, $app_root, $site_path);
    echo "installed\n";
    exit;
}

$dsn = sprintf('mysql:host=%s;port=%s;dbname=%s;charset=utf8mb4', $db['host'], $db['port'], $db['database']);
$pdo = new PDO($dsn, $db['username'], $db['password'], [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
$pdo->exec('CREATE TABLE IF NOT EXISTS greeting (id INT PRIMARY KEY, message VARCHAR(255) NOT NULL)');
// Cached in APCu once read, as Drupal's cache backends keep data in memory: a stale copy
// after the database changed is what a local environment must clear.
$message = function_exists('apcu_fetch') ? apcu_fetch('greeting', $cached) : FALSE;
if (empty($cached)) {
  $message = $pdo->query('SELECT message FROM greeting WHERE id = 1')->fetchColumn();
  // A missing row is not cached: the page keeps asking until there is a greeting.
  if ($message !== FALSE && function_exists('apcu_store')) {
    apcu_store('greeting', $message);
  }
}

header('Content-Type: text/html; charset=utf-8');
echo "<h1>drupal-basic</h1>\n";
echo '<p>greeting: <span id="greeting">' . htmlspecialchars($message === FALSE ? '(none yet)' : $message) . "</span></p>\n";
echo '<p>served by ' . htmlspecialchars(gethostname()) . ' with PHP ' . PHP_VERSION . "</p>\n";

/**
 * The scheme, host and port the browser used, as Symfony's Request builds them: the Host
 * header as it arrived (its port, or none: the scheme's default), and only without one
 * SERVER_NAME with SERVER_PORT.
 */
function base_url(): string {
  $https = !empty($_SERVER['HTTPS']) && $_SERVER['HTTPS'] !== 'off';
  $scheme = $https ? 'https' : 'http';
  $host = $_SERVER['HTTP_HOST'] ?? '';
  if ($host === '') {
    $host = $_SERVER['SERVER_NAME'] ?? 'localhost';
    $port = (int) ($_SERVER['SERVER_PORT'] ?? ($https ? 443 : 80));
    if ($port !== ($https ? 443 : 80)) {
      $host .= ':' . $port;
    }
  }
  return "$scheme://$host";
}

function redirect(string $path, int $status): never {
  header('Location: ' . base_url() . $path, TRUE, $status);
  exit;
}

/**
 * Drupal's installer, the part that broke: without a config sync folder it writes the
 * database settings and a hash_salt into settings.php in plain text; then it makes
 * sites/default and settings.php read-only.
 */
function install_settings(array $settings, string $app_root, string $site_path): void {
  $sync = $settings['config_sync_directory'] ?? '';
  $settings_file = "$app_root/$site_path/settings.php";
  if ($sync === '' || !is_dir("$app_root/$sync")) {
    $password = var_export((string) getenv('DB_PASSWORD'), TRUE);
    $salt = var_export(bin2hex(random_bytes(16)), TRUE);
    file_put_contents($settings_file, "\n\$databases['default']['default']['password'] = $password;\n\$settings['hash_salt'] = $salt;\n", FILE_APPEND);
  }
  @chmod($settings_file, 0444);
  @chmod("$app_root/$site_path", 0555);
}

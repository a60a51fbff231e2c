<?php

/**
 * @file
 * A small stand-in for Drupal's front controller: it loads settings the way Drupal does
 * (settings.php -> settings.prodlike.php -> $databases, read from the injected
 * environment) and renders a value read from MariaDB. Replace this folder with a real
 * Drupal codebase and the same settings reach Drupal.
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

$dsn = sprintf('mysql:host=%s;port=%s;dbname=%s;charset=utf8mb4', $db['host'], $db['port'], $db['database']);
$pdo = new PDO($dsn, $db['username'], $db['password'], [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
$pdo->exec('CREATE TABLE IF NOT EXISTS greeting (id INT PRIMARY KEY, message VARCHAR(255) NOT NULL)');
$message = $pdo->query('SELECT message FROM greeting WHERE id = 1')->fetchColumn();

header('Content-Type: text/html; charset=utf-8');
echo "<h1>drupal-basic</h1>\n";
echo '<p>greeting: <span id="greeting">' . htmlspecialchars($message === FALSE ? '(none yet)' : $message) . "</span></p>\n";
echo '<p>served by ' . htmlspecialchars(gethostname()) . ' with PHP ' . PHP_VERSION . "</p>\n";

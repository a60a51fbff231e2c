<?php
// A stand-in storefront for the OpenMage preset: it reads the database settings from
// app/etc/local.xml (mounted by prodlike, as production mounts it from a Secret), counts
// visits in a Redis-backed PHP session, and reports when cron last ran. Before that it
// does what OpenMage does first (app/Mage.php): an undated local.xml means "show the
// installer", a dated one "run the setup scripts the database is behind on".
declare(strict_types=1);

header('Content-Type: text/plain; charset=utf-8');
require __DIR__ . '/app/Mage.php';

$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH) ?: '/';
// As OpenMage: a shop local.xml does not date is shown its installer, and nothing else
// runs (no setup scripts against an empty database).
if (!Mage::isInstalled()) {
    if (str_starts_with($path, '/index.php/install')) {
        echo "OpenMage installation wizard\n";
        exit;
    }
    $host = ($_SERVER['HTTP_HOST'] ?? 'localhost');
    header("Location: http://{$host}/index.php/install/", true, 302);
    exit;
}
try {
    $pdo = Mage::connection();
    // An installed shop brings its database up to date on the first request.
    Mage::applyAllUpdates($pdo);
} catch (Throwable $error) {
    http_response_code(500);
    exit('There has been an error processing your request: ' . $error->getMessage() . "\n");
}
$database = $pdo->query('SELECT DATABASE()')->fetchColumn();

// As Mage_Core_Controller_Varien_Front::_checkBaseUrl: a request for another host than the
// store's base URL (core_config_data) is redirected there. After a pull from production
// that would be production's own URL, unless the local environment rewrote it.
$hasConfig = $pdo->query("SHOW TABLES LIKE 'core_config_data'")->fetchColumn() !== false;
if ($hasConfig) {
    // A request PHP is told is https (through the local router) is checked against the
    // secure base URL, as OpenMage does.
    $secure = ($_SERVER['HTTPS'] ?? '') === 'on';
    $basePath = $secure ? 'web/secure/base_url' : 'web/unsecure/base_url';
    $baseUrl = (string) $pdo->query("SELECT value FROM core_config_data WHERE path = '{$basePath}' AND scope = 'default'")->fetchColumn();
    $requested = ($secure ? 'https://' : 'http://') . ($_SERVER['HTTP_HOST'] ?? '') . '/';
    if ($baseUrl !== '' && rtrim($baseUrl, '/') !== rtrim($requested, '/')) {
        header('Location: ' . $baseUrl, true, 302);
        exit;
    }
}

session_start();
$_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;

$cronLog = __DIR__ . '/var/cron.log';
$lastCron = is_file($cronLog) ? trim((string) shell_exec('tail -n 1 ' . escapeshellarg($cronLog))) : 'never';

echo "openmage-basic\n";
echo "database: {$database}\n";
echo 'session handler: ' . ini_get('session.save_handler') . "\n";
echo "visits: {$_SESSION['visits']}\n";
echo "last cron: {$lastCron}\n";
// What PHP is told about the request, as OpenMage builds URLs and checks HTTPS from it.
echo 'host: ' . ($_SERVER['HTTP_HOST'] ?? '') . "\n";
echo 'server port: ' . ($_SERVER['SERVER_PORT'] ?? '') . "\n";
echo 'https: ' . ($_SERVER['HTTPS'] ?? '') . "\n";
echo 'forwarded proto: ' . ($_SERVER['HTTP_X_FORWARDED_PROTO'] ?? '') . "\n";
echo 'forwarded for: ' . ($_SERVER['HTTP_X_FORWARDED_FOR'] ?? '') . "\n";

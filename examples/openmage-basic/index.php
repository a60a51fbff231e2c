<?php
// A stand-in storefront for the OpenMage preset: it reads the database settings from
// app/etc/local.xml (mounted by prodlike, as production mounts it from a Secret), counts
// visits in a Redis-backed PHP session, and reports when cron last ran.
declare(strict_types=1);

header('Content-Type: text/plain; charset=utf-8');
$xml = simplexml_load_file(__DIR__ . '/app/etc/local.xml');
if ($xml === false) {
    http_response_code(500);
    exit("app/etc/local.xml is missing or unreadable\n");
}
$connection = $xml->global->resources->default_setup->connection;
$pdo = new PDO(
    sprintf('mysql:host=%s;dbname=%s;charset=utf8mb4', (string) $connection->host, (string) $connection->dbname),
    (string) $connection->username,
    (string) $connection->password,
    [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION],
);
$database = $pdo->query('SELECT DATABASE()')->fetchColumn();

session_start();
$_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;

$cronLog = __DIR__ . '/var/cron.log';
$lastCron = is_file($cronLog) ? trim((string) shell_exec('tail -n 1 ' . escapeshellarg($cronLog))) : 'never';

echo "openmage-basic\n";
echo "database: {$database}\n";
echo 'session handler: ' . ini_get('session.save_handler') . "\n";
echo "visits: {$_SESSION['visits']}\n";
echo "last cron: {$lastCron}\n";

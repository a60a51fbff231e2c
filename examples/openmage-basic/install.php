<?php
// Stands in for OpenMage's console installer (php install.php --license_agreement_accepted
// yes --db_host ... --url ... --admin_username ...), where it matters to prodlike: it
// refuses a shop local.xml already dates, writes app/etc/local.xml from its template
// (with a placeholder date), runs the setup scripts, creates the admin, then dates
// local.xml and prints "SUCCESS: <encryption key>".
declare(strict_types=1);

require __DIR__ . '/app/Mage.php';

if (PHP_SAPI !== 'cli') {
    http_response_code(403);
    exit("install.php runs from the command line\n");
}

function fail(string $message): never
{
    echo "FAILED\nERROR: {$message}\n";
    exit(1);
}

$args = [];
for ($i = 1; $i < $argc; $i++) {
    if (str_starts_with($argv[$i], '--')) {
        $args[substr($argv[$i], 2)] = $argv[$i + 1] ?? '';
        $i++;
    }
}

if (Mage::isInstalled()) {
    fail('Magento is already installed');
}
foreach (['license_agreement_accepted', 'db_host', 'db_name', 'db_user', 'url', 'admin_username', 'admin_password', 'admin_email'] as $required) {
    if (($args[$required] ?? '') === '') {
        fail("Please specify a value for {$required}");
    }
}
if (strlen($args['admin_password']) < 7 || !preg_match('/[a-z]/i', $args['admin_password']) || !preg_match('/\d/', $args['admin_password'])) {
    fail('Password must be at least of 7 characters and include both letters and numbers');
}

// installConfig(): local.xml from the template, dated with a placeholder until the end.
$key = $args['encryption_key'] ?? md5(random_bytes(16));
$etc = __DIR__ . '/app/etc';
$template = file_get_contents("{$etc}/local.xml.template");
$values = [
    'date' => 'd-d-d-d-d-d', 'key' => $key, 'db_prefix' => '', 'db_host' => $args['db_host'],
    'db_user' => $args['db_user'], 'db_pass' => $args['db_pass'] ?? '', 'db_name' => $args['db_name'],
    'db_model' => 'mysql4', 'session_save' => 'files',
];
foreach ($values as $name => $value) {
    $template = str_replace('{{' . $name . '}}', '<![CDATA[' . $value . ']]>', $template);
}
if (@file_put_contents("{$etc}/local.xml", $template) === false) {
    fail("Path \"{$etc}/local.xml\" must be writable");
}
@chmod("{$etc}/local.xml", 0777);

// installDb(): the setup scripts, then what the installer saves itself.
$pdo = Mage::connection(simplexml_load_string($template));
Mage::applyAllUpdates($pdo);
$save = $pdo->prepare('REPLACE INTO core_config_data (scope, scope_id, path, value) VALUES (\'default\', 0, ?, ?)');
$save->execute(['web/unsecure/base_url', rtrim($args['url'], '/') . '/']);
$save->execute(['web/secure/base_url', rtrim($args['secure_base_url'] ?? $args['url'], '/') . '/']);
$admin = $pdo->prepare('INSERT INTO admin_user (username, password, email) VALUES (?, ?, ?)');
$admin->execute([$args['admin_username'], password_hash($args['admin_password'], PASSWORD_DEFAULT), $args['admin_email']]);

// finish(): the real install date replaces the placeholder.
file_put_contents("{$etc}/local.xml", str_replace('d-d-d-d-d-d', gmdate('r'), (string) file_get_contents("{$etc}/local.xml")));
echo "SUCCESS: {$key}\n";

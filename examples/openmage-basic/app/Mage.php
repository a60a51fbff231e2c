<?php
// A stand-in for what OpenMage does before any page, where a real shop broke in a local
// environment: Mage::isInstalled() reads app/etc/local.xml's install date (nothing else);
// an installed shop runs its modules' setup scripts on the first request that finds
// core_resource behind, and those scripts create their tables outright, so two first
// requests at once (or cron beside them) collide ("Table ... already exists").
declare(strict_types=1);

final class Mage
{
    public const SETUP_VERSION = '1.6.0.2';

    public static function baseDir(): string
    {
        return dirname(__DIR__);
    }

    public static function localXml(): ?SimpleXMLElement
    {
        $file = self::baseDir() . '/app/etc/local.xml';
        $xml = is_readable($file) ? @simplexml_load_file($file) : false;
        return $xml === false ? null : $xml;
    }

    public static function isInstalled(): bool
    {
        $xml = self::localXml();
        $date = $xml === null ? '' : (string) $xml->global->install->date;
        return $date !== '' && strtotime($date) !== false;
    }

    public static function connection(?SimpleXMLElement $xml = null): PDO
    {
        $xml ??= self::localXml();
        if ($xml === null) {
            throw new RuntimeException('app/etc/local.xml is missing or unreadable');
        }
        $c = $xml->global->resources->default_setup->connection;
        return new PDO(
            sprintf('mysql:host=%s;dbname=%s;charset=utf8mb4', (string) $c->host, (string) $c->dbname),
            (string) $c->username,
            (string) $c->password,
            [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION],
        );
    }

    /** Mage_Core_Model_Resource_Setup::applyAllUpdates(), in miniature. */
    public static function applyAllUpdates(PDO $pdo): void
    {
        $hasResource = $pdo->query("SHOW TABLES LIKE 'core_resource'")->fetchColumn() !== false;
        $version = $hasResource
            ? $pdo->query("SELECT version FROM core_resource WHERE code = 'core_setup'")->fetchColumn()
            : false;
        if ($version === self::SETUP_VERSION) {
            return;
        }
        // A real install script takes seconds: long enough for a second request to start
        // the same one beside it.
        usleep(300000);
        if (!$hasResource) {
            $pdo->exec('CREATE TABLE core_resource (code VARCHAR(50) PRIMARY KEY, version VARCHAR(50), data_version VARCHAR(50))');
        }
        $pdo->exec('CREATE TABLE core_config_data (config_id INT AUTO_INCREMENT PRIMARY KEY, scope VARCHAR(8) NOT NULL DEFAULT \'default\', scope_id INT NOT NULL DEFAULT 0, path VARCHAR(255) NOT NULL, value TEXT, UNIQUE KEY config_scope (scope, scope_id, path))');
        $pdo->exec('CREATE TABLE admin_user (user_id INT AUTO_INCREMENT PRIMARY KEY, username VARCHAR(40) NOT NULL UNIQUE, password VARCHAR(255) NOT NULL, email VARCHAR(128))');
        $pdo->exec('CREATE TABLE customer_flowpassword (flowpassword_id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255))');
        $stmt = $pdo->prepare('INSERT INTO core_resource (code, version, data_version) VALUES (\'core_setup\', ?, ?)');
        $stmt->execute([self::SETUP_VERSION, self::SETUP_VERSION]);
    }
}

<?php
// Stands in for OpenMage's cron.php: appends a line to var/cron.log. The environment
// variable CRON_SLEEP (seconds, read from var/cron-sleep) makes a run outlive its interval.
declare(strict_types=1);

$dir = __DIR__ . '/var';
if (!is_dir($dir)) {
    mkdir($dir, 0777, true);
}
$sleep = is_file("$dir/cron-sleep") ? (int) file_get_contents("$dir/cron-sleep") : 0;
file_put_contents("$dir/cron.log", gmdate('c') . " start pid " . getmypid() . "\n", FILE_APPEND);
if ($sleep > 0) {
    sleep($sleep);
}
file_put_contents("$dir/cron.log", gmdate('c') . " end pid " . getmypid() . "\n", FILE_APPEND);

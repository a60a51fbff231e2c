<?php
// Stands in for OpenMage's cron.php: like it, it does nothing on a shop that is not
// installed (no setup scripts from cron against an empty database); otherwise it appends
// a line to var/cron.log. The number of seconds in var/cron-sleep makes a run outlive its
// interval.
declare(strict_types=1);

require __DIR__ . '/app/Mage.php';

if (!Mage::isInstalled()) {
    echo "Application is not installed yet, please complete install wizard first.\n";
    exit;
}
Mage::applyAllUpdates(Mage::connection());

$dir = __DIR__ . '/var';
if (!is_dir($dir)) {
    mkdir($dir, 0777, true);
}
$sleep = is_file("$dir/cron-sleep") ? (int) file_get_contents("$dir/cron-sleep") : 0;
// The container's host name with the pid: a run killed with its container (a release
// that recreated cron) is told apart from the runs of the container there now.
$who = 'pid ' . getmypid() . ' host ' . gethostname();
file_put_contents("$dir/cron.log", gmdate('c') . " start {$who}\n", FILE_APPEND);
if ($sleep > 0) {
    sleep($sleep);
}
file_put_contents("$dir/cron.log", gmdate('c') . " end {$who}\n", FILE_APPEND);

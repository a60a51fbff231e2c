<?php

/**
 * @file
 * Site settings. The local database credentials come from settings.prodlike.php, which
 * `prodlike up` generates and which reads them from the environment.
 */

if (file_exists(__DIR__ . '/settings.prodlike.php')) {
  include __DIR__ . '/settings.prodlike.php';
}

<?php

/**
 * @file
 * Created by prodlike because this site had no settings.php. prodlike never changes it
 * again: it is yours. It loads the generated settings.prodlike.php, which reads the
 * database credentials from the environment.
 */

if (file_exists(__DIR__ . '/settings.prodlike.php')) {
  include __DIR__ . '/settings.prodlike.php';
}

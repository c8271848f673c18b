plugins {
    id("com.android.application")
}

android {
    namespace = "org.fermbench.runner"
    compileSdk = 35

    defaultConfig {
        applicationId = "org.fermbench.runner"
        minSdk = 21
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0" // reported as runner_version; keep in step with fermbench's version
        ndk {
            // x86_64 (and x86) for emulators; the arm ABIs for phones.
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64", "x86")
        }
    }

    // One APK per runtime: the PyTorch Lite and ExecuTorch native libraries (libfbjni.so) clash.
    // Each flavor supplies org.fermbench.runner.Engines (src/<flavor>/java/) and its dependency.
    flavorDimensions += "runtime"
    productFlavors {
        create("pytorchLite") {
            dimension = "runtime"
        }
        // To add ExecuTorch: create("executorch") { dimension = "runtime"; minSdk = 23;
        //   applicationIdSuffix = ".executorch" } with src/executorch/java/.../Engines.java,
        //   abiFilters arm64-v8a + x86_64, and "executorchImplementation"(executorch-android).
    }

    buildTypes {
        release {
            isMinifyEnabled = false
            // Installable without a keystore; benchmarks prefer a non-debuggable build.
            signingConfig = signingConfigs.getByName("debug")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_11
        targetCompatibility = JavaVersion.VERSION_11
    }
}

dependencies {
    // The last release of the PyTorch Mobile lite runtime; reads bytecode versions 4 to 9.
    // Keep PytorchLiteEngine.VERSION in step.
    "pytorchLiteImplementation"("org.pytorch:pytorch_android_lite:2.1.0")
}

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
        versionCode = 4 // the protocol version (PROTOCOL.md): a newer runner installs over an older one
        versionName = "0.1.0" // reported as runner_version; keep in step with fermbench's version
    }

    // One APK per runtime: the PyTorch Lite and ExecuTorch native libraries (libfbjni.so) clash, and
    // one runtime per APK keeps each app's size and memory that runtime's own.
    // Each flavor supplies org.fermbench.runner.Engines (src/<flavor>/java/) and its dependency;
    // the ABI filters are per flavor because a flavor's filters add to defaultConfig's.
    flavorDimensions += "runtime"
    productFlavors {
        create("pytorchLite") { // org.fermbench.runner: .ptl files
            dimension = "runtime"
            // x86_64 (and x86) for emulators; the arm ABIs for phones. Its libraries are 4 KB
            // aligned: they do not load on 16 KB-page devices (Android 15+).
            ndk { abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64", "x86") }
        }
        create("executorch") { // org.fermbench.runner.executorch: .pte files, 16 KB-page devices too
            dimension = "runtime"
            applicationIdSuffix = ".executorch"
            // The AAR declares minSdk 23, but its native libraries are compiled for android-26:
            // below 26 they may fail to load, so the flavor asks for what the libraries need.
            minSdk = 26
            ndk { abiFilters += listOf("arm64-v8a", "x86_64") } // the ABIs the AAR ships
        }
        create("litert") { // org.fermbench.runner.litert: .tflite files, 16 KB-page devices too
            dimension = "runtime"
            applicationIdSuffix = ".litert"
            // The LiteRT 2.3.0 AARs declare minSdk 24: a lower one fails the manifest merge.
            minSdk = 24
            // The 64-bit ABIs: phones (arm64-v8a) and emulators (x86_64), the ones with 16 KB-page
            // devices. The AAR also ships armeabi-v7a and x86, which the runner does not need.
            ndk { abiFilters += listOf("arm64-v8a", "x86_64") }
        }
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
    // ExecuTorch's Android library (XNNPACK, portable and optimized kernels). 1.4.0, not the 1.4.1
    // of the Python exporter: 1.4.0 is confirmed published on Maven Central, 1.4.1 could not be
    // (docs/maven-coordinates.md). Between the v1.4.0 and v1.4.1 tags the program schema
    // (schema/program.fbs, identifier ET12) and the XNNPACK delegate's serialization are unchanged,
    // so this runtime reads what executorch 1.4.1 exports. Releases from 1.2.0 on build their native
    // libraries with NDK r28c, whose linker aligns LOAD segments to 16 KB by default: `fermbench
    // doctor --apk` reads the alignment back from the built APK. Keep ExecutorchEngine.VERSION and
    // PTE_IDENTIFIERS in step.
    "executorchImplementation"("org.pytorch:executorch-android:1.4.0")
    // Google's LiteRT (formerly TensorFlow Lite), from Google's Maven repository: the release of the
    // host's ai-edge-litert 2.3.0, so the phone and the host run the same interpreter and XNNPACK
    // delegate. From 2.x the AAR carries the CompiledModel API and, on the CPU, the Interpreter API
    // (org.tensorflow.lite) that LiteRtEngine uses. Its native libraries are linked for 16 KB pages
    // (-z max-page-size=16384 in LiteRT's Android build rules); 1.4.0 is the first release whose
    // published AAR was read back 16 KB aligned (docs/maven-coordinates.md), and `fermbench doctor
    // --apk` reads the alignment from the built APK. Keep LiteRtEngine.VERSION in step.
    "litertImplementation"("com.google.ai.edge.litert:litert:2.3.0")
}

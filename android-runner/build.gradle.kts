// Android Gradle Plugin 8.7 needs Gradle 8.9+ (gradle/wrapper/gradle-wrapper.properties pins 8.10.2
// with its SHA-256) and JDK 17.
plugins {
    id("com.android.application") version "8.7.3" apply false
}

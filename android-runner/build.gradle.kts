// Android Gradle Plugin 8.7 needs Gradle 8.9+ (the wrapper pins 8.10.2) and JDK 17.
plugins {
    id("com.android.application") version "8.7.3" apply false
}
